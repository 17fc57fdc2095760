"""The spawn handshake between a Python loader and the spawner (docs/protocols.md, section 1).

Control lines go to stdout prefixed with ``!> ``; everything else the app prints on
stdout is forwarded to the log as its own output. The spawner talks to us on stdin:
first the handshake keys, later one byte (or EOF) asking us to shut down.
"""

import os
import sys
import threading

CONTROL_PREFIX = '!> '
GREETING = 'I have control 1.0'
REPLY = 'You have control 1.0'
REQUIRED_KEYS = ('app_root', 'startup_file', 'socket_dir', 'connect_password')

# App threads may print while we write a control block; this keeps our own blocks whole.
_control_lock = threading.Lock()


class HandshakeError(Exception):
    """The spawner sent something this loader cannot work with."""


def make_output_prompt():
    """Line-buffer stdout and stderr so the app's output reaches the log as it is printed."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, 'reconfigure', None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)


def write_control(lines, trailer=''):
    """Writes ``!> `` lines (and optional free text after them) to fd 1 in one go.

    The app's buffered output is flushed first so a block never lands in the middle of
    one of its lines; a single write of a small block to a pipe is atomic.
    """
    data = ''.join(CONTROL_PREFIX + line + '\n' for line in lines) + trailer
    payload = data.encode('utf-8', 'replace')
    with _control_lock:
        try:
            sys.stdout.flush()
        except (AttributeError, OSError, ValueError):
            pass  # the app replaced or closed sys.stdout; fd 1 is still ours
        _write_all(1, payload)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class ControlChannel:
    """Reads the spawner's side of the conversation from a file descriptor.

    Reads are unbuffered beyond what is consumed so that a shutdown byte sent early is
    never swallowed while parsing the handshake.
    """

    def __init__(self, fd=0):
        self._fd = fd
        self._pending = b''

    def read_line(self):
        """Returns the next line without its newline, or None at EOF."""
        while b'\n' not in self._pending:
            chunk = os.read(self._fd, 4096)
            if not chunk:
                return None
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b'\n')
        return line.rstrip(b'\r').decode('utf-8', 'surrogateescape')

    def read_handshake(self):
        """Reads the reply and the ``key: value`` lines up to the empty line; returns a dict."""
        reply = self.read_line()
        if reply != REPLY:
            raise HandshakeError('expected %r from the spawner, got %r' % (REPLY, reply))
        options = {}
        while True:
            line = self.read_line()
            if line is None:
                raise HandshakeError('stdin closed before the end of the handshake')
            if line == '':
                break
            key, separator, value = line.partition(': ')
            if not separator:
                if not line.endswith(':'):
                    raise HandshakeError('malformed handshake line %r' % line)
                key, value = line[:-1], ''
            options[key] = value
        missing = [key for key in REQUIRED_KEYS if not options.get(key)]
        if missing:
            raise HandshakeError('handshake is missing %s' % ', '.join(missing))
        return options

    def detach_from_stdin(self):
        """Moves our end of the control pipe off fd 0 and gives fd 0 /dev/null.

        The app and any child process it starts then cannot read (and so steal) the
        shutdown byte meant for us. os.dup() returns a non-inheritable descriptor.
        """
        if self._fd != 0:
            return
        self._fd = os.dup(0)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)

    def wait_for_shutdown(self):
        """Blocks until the spawner writes a byte or closes the pipe."""
        if self._pending:
            return
        while True:
            try:
                os.read(self._fd, 1)
                return
            except InterruptedError:
                continue


def parse_thread_count(options):
    value = options.get('threads', '1').strip() or '1'
    try:
        threads = int(value)
    except ValueError:
        threads = 0
    if threads < 1:
        raise HandshakeError('threads must be a positive integer, got %r' % value)
    return threads


def greet():
    write_control([GREETING])


def report_ready(sockets):
    """sockets: (name, address, protocol, concurrency[, flags]) tuples, per the socket line format."""
    lines = ['Ready']
    lines.extend('socket: ' + ';'.join(str(field) for field in socket) for socket in sockets)
    lines.append('')
    write_control(lines)
