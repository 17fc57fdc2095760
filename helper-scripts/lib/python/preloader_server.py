"""The preloader's command socket (docs/protocols.md, "Preloader").

A private Unix socket on which the spawner sends ``spawn <password>``; each valid
command forks a child, which gets the connection. The parent serves one command at a
time in its only thread, so a fork never copies another thread's half-held lock.
Children are reaped here (SIGCHLD), so the spawner sees a child's pid vanish when it
exits.
"""

import hmac
import os
import secrets
import select
import signal
import socket
import sys

COMMAND_TIMEOUT_SECONDS = 10.0
MAX_COMMAND_SIZE = 1024


def _reap_children(signum, frame):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class PreloaderServer:
    def __init__(self, socket_dir, password, kind='wsgi', before_fork=None):
        """kind names the preloader in the log; before_fork() may raise to refuse a fork
        whose child would be broken (the reason goes to the log)."""
        self._log_prefix = '[%s-preloader] ' % kind
        self._before_fork = before_fork
        self._password = password.encode('utf-8')
        self._owner_pid = os.getpid()
        self.socket_path = os.path.join(socket_dir, 'preloader.%d.%s.sock' % (os.getpid(), secrets.token_hex(6)))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        previous_umask = os.umask(0o177)  # created 0600
        try:
            listener.bind(self.socket_path)
            listener.listen(16)
        except BaseException:
            listener.close()
            raise
        finally:
            os.umask(previous_umask)
        self._listener = listener

    def run(self, control_fd, become_child):
        """Serves commands until a byte or EOF arrives on control_fd (the spawner's
        stdin). become_child(conn) runs in each forked child and must not return."""
        signal.signal(signal.SIGCHLD, _reap_children)
        try:
            while True:
                readable, _, _ = select.select([self._listener, control_fd], [], [])
                if control_fd in readable:
                    return  # the shutdown byte, or EOF: the spawner is gone
                try:
                    conn, _ = self._listener.accept()
                except OSError:
                    continue
                self._serve(conn, control_fd, become_child)
        finally:
            self.close()

    def close(self):
        if os.getpid() == self._owner_pid:
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass
        self._listener.close()

    def _serve(self, conn, control_fd, become_child):
        try:
            command, _, password = (self._read_command(conn) or '').partition(' ')
            if command != 'spawn' or not hmac.compare_digest(password.encode('utf-8'), self._password):
                self._refuse(conn, 'wrong password' if command == 'spawn' else 'unknown command %r' % command)
                return
            if self._before_fork is not None:
                try:
                    self._before_fork()
                except Exception as error:
                    self._refuse(conn, str(error))
                    return
            sys.stdout.flush()
            sys.stderr.flush()
            try:
                pid = os.fork()
            except OSError as error:
                self._refuse(conn, 'fork failed: %s' % error)
                return
            if pid == 0:
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the app's own subprocesses are its business
                self._listener.close()
                os.close(control_fd)
                conn.settimeout(None)
                become_child(conn)
                os._exit(70)  # become_child must not return; never run the preloader's loop in a child
        finally:
            conn.close()

    @staticmethod
    def _read_command(conn):
        conn.settimeout(COMMAND_TIMEOUT_SECONDS)
        data = b''
        try:
            while b'\n' not in data and len(data) <= MAX_COMMAND_SIZE:
                chunk = conn.recv(MAX_COMMAND_SIZE)
                if not chunk:
                    return None
                data += chunk
        except OSError:
            return None
        return data.split(b'\n', 1)[0].decode('utf-8', 'replace').rstrip('\r')

    def _log(self, message):
        sys.stderr.write('%s%s\n' % (self._log_prefix, message))
        sys.stderr.flush()

    def _refuse(self, conn, reason):
        self._log('refused a spawn command: %s' % reason)
        try:
            conn.sendall(('!> refused: %s\n' % reason).encode('utf-8'))
        except OSError:
            pass
