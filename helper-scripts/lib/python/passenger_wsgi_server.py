"""Serves a WSGI application (PEP 3333) over the session protocol (docs/protocols.md, section 2).

A request is a length-prefixed block of ``KEY\\0VALUE\\0`` CGI variables, then the request
body; we answer with an HTTP/1.1 response framed by Content-Length or chunked encoding.
Without PASSENGER_KEEP_ALIVE in the head the body ends when the core half-closes and we
close the connection after the response; with it, the body is exactly CONTENT_LENGTH bytes
and the connection waits for the next request head (EOF: the core is done with it).
"""

import hmac
import io
import os
import re
import secrets
import socket
import sys
import threading
import time
import traceback
from urllib.parse import unquote_to_bytes

RECV_SIZE = 65536
MAX_HEAD_SIZE = 1 << 20
# Unread request bytes we swallow before closing: closing a Unix socket with unread
# data makes the core's read fail with ECONNRESET instead of seeing a clean EOF.
DRAIN_LIMIT = 1 << 20
DRAIN_TIMEOUT_SECONDS = 1.0
FILE_WRAPPER_BLOCK_SIZE = 65536

PASSWORD_KEY = b'PASSENGER_CONNECT_PASSWORD'
KEEP_ALIVE_PAIR = 'PASSENGER_KEEP_ALIVE\x001\x00'

# The core owns the connection and we own the framing, so an app's hop-by-hop headers are dropped.
HOP_BY_HOP_HEADERS = frozenset((
    'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization',
    'te', 'trailer', 'trailers', 'transfer-encoding', 'upgrade',
))

_is_valid_status = re.compile(r'[1-5][0-9][0-9] [^\r\n\0]*\Z').match
_is_token = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z").match
_has_forbidden_value_char = re.compile(r'[\r\n\0]').search

INTERNAL_ERROR_BODY = b'Internal Server Error\n'
INTERNAL_ERROR_HEAD = (
    b'HTTP/1.1 500 Internal Server Error\r\n'
    b'Content-Type: text/plain; charset=utf-8\r\n'
    b'Content-Length: %d\r\n\r\n' % len(INTERNAL_ERROR_BODY)
)


def log(message):
    sys.stderr.write('wsgi-loader: %s\n' % message)


class ClientDisconnected(Exception):
    """The core closed the connection while we were answering."""


class RequestBody:
    """``wsgi.input``: the request body, received from the socket only as the app reads it.

    The body ends after CONTENT_LENGTH bytes when the core sent one, else at EOF (the
    core half-closes its side once the body is complete).
    """

    __slots__ = ('_sock', '_buffer', '_pos', '_unreceived')

    def __init__(self, sock, initial, content_length):
        self._sock = sock
        if content_length is None:
            self._unreceived = None  # unknown: read until EOF
        else:
            initial = initial[:content_length]
            self._unreceived = content_length - len(initial)
        self._buffer = initial
        self._pos = 0

    def _receive(self, flags=0):
        """The next piece of body from the socket, or b'' once the body has ended."""
        unreceived = self._unreceived
        if unreceived == 0:
            return b''
        size = RECV_SIZE if unreceived is None or unreceived > RECV_SIZE else unreceived
        chunk = self._sock.recv(size, flags)
        if not chunk:
            self._unreceived = 0  # EOF; short if CONTENT_LENGTH promised more
        elif unreceived is not None:
            self._unreceived = unreceived - len(chunk)
        return chunk

    def _take_buffered(self):
        rest = self._buffer[self._pos:] if self._pos else self._buffer
        self._buffer = b''
        self._pos = 0
        return rest

    def read(self, size=-1):
        if size is None or size < 0:
            parts = [self._take_buffered()]
            chunk = self._receive()
            while chunk:
                parts.append(chunk)
                chunk = self._receive()
            return b''.join(parts)
        buffer, pos = self._buffer, self._pos
        if pos + size <= len(buffer):
            self._pos = pos + size
            return buffer[pos:pos + size]
        parts = [self._take_buffered()]
        needed = size - len(parts[0])
        while needed > 0:
            chunk = self._receive()
            if not chunk:
                break
            if len(chunk) > needed:
                parts.append(chunk[:needed])
                self._buffer, self._pos = chunk, needed
                break
            parts.append(chunk)
            needed -= len(chunk)
        return b''.join(parts)

    def readline(self, size=-1):
        limit = None if size is None or size < 0 else size
        parts = []
        while limit != 0:
            buffer, pos = self._buffer, self._pos
            newline = buffer.find(b'\n', pos)
            end = len(buffer) if newline < 0 else newline + 1
            if limit is not None and end - pos > limit:
                end = pos + limit
            if end > pos:
                parts.append(buffer[pos:end])
                self._pos = end
                if limit is not None:
                    limit -= end - pos
                if buffer[end - 1:end] == b'\n':
                    break
            if limit == 0:
                break
            chunk = self._receive()
            if not chunk:
                break
            self._buffer, self._pos = chunk, 0
        return b''.join(parts)

    def readlines(self, hint=-1):
        lines = []
        total = 0
        for line in self:
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def at_end(self):
        return self._unreceived == 0 and self._pos >= len(self._buffer)

    def fully_received(self):
        """True when no request bytes remain unread, peeking without blocking: for a
        request without CONTENT_LENGTH the core's EOF is usually there already."""
        if self._pos < len(self._buffer):
            return False
        if self._unreceived == 0:
            return True
        try:
            chunk = self._receive(socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        self._buffer, self._pos = chunk, 0
        return not chunk

    def skip_rest(self):
        """Keep-alive: reads and drops exactly the rest of the body, however large, so that
        the next request head follows; False when the body ended early."""
        self._take_buffered()
        while self._unreceived:
            if not self._receive():
                return False
        return True

    def discard_rest(self, limit):
        """Reads and drops up to limit more bytes of body; True when the body has ended."""
        self._take_buffered()
        while limit > 0:
            chunk = self._receive()
            if not chunk:
                return True
            limit -= len(chunk)
        return self.at_end()


class FileWrapper:
    """``wsgi.file_wrapper``: iterates a file in blocks; the server may sendfile() it instead."""

    def __init__(self, filelike, block_size=FILE_WRAPPER_BLOCK_SIZE):
        self.filelike = filelike
        self.block_size = block_size
        close = getattr(filelike, 'close', None)
        if close is not None:
            self.close = close

    def __iter__(self):
        read, size = self.filelike.read, self.block_size
        block = read(size)
        while block:
            yield block
            block = read(size)


# Statuses and header names repeat from one response to the next: validate each once.
_CACHE_LIMIT = 512
_ORDINARY_HEADER, _CONTENT_LENGTH_HEADER, _HOP_BY_HOP_HEADER = 0, 1, 2
_parsed_statuses = {}
_header_name_kinds = {}


def _parse_status(status):
    """Returns (the status as bytes, whether the status forbids a body)."""
    parsed = _parsed_statuses.get(status)
    if parsed is None:
        if type(status) is not str:
            raise TypeError('status must be a str such as "200 OK", not %s' % type(status).__name__)
        if not _is_valid_status(status):
            raise ValueError('invalid status %r: expected three digits (100-599), a space and a reason' % status)
        parsed = (status.encode('latin-1'), status[0] == '1' or status[:3] in ('204', '304'))
        if len(_parsed_statuses) < _CACHE_LIMIT:
            _parsed_statuses[status] = parsed
    return parsed


def _classify_header_name(name):
    if type(name) is not str:
        raise TypeError('header names must be str, not %s' % type(name).__name__)
    if not _is_token(name):
        raise ValueError('invalid header name %r' % name)
    lowered = name.lower()
    if lowered == 'content-length':
        kind = _CONTENT_LENGTH_HEADER
    elif lowered in HOP_BY_HOP_HEADERS:
        kind = _HOP_BY_HOP_HEADER
    else:
        kind = _ORDINARY_HEADER
    if len(_header_name_kinds) < _CACHE_LIMIT:
        _header_name_kinds[name] = kind
    return kind


def _check_headers(headers):
    """Validates the app's headers; returns (header lines as bytes, Content-Length or None)."""
    if not isinstance(headers, (list, tuple)):
        raise TypeError('response headers must be a list of (name, value) tuples, not %s'
                        % type(headers).__name__)
    kind_of = _header_name_kinds.get
    lines = []
    content_length = None
    for name, value in headers:
        kind = kind_of(name)
        if kind is None:
            kind = _classify_header_name(name)
        if type(value) is not str:
            raise TypeError('the value of header %s must be a str, not %s' % (name, type(value).__name__))
        if kind:
            if kind == _HOP_BY_HOP_HEADER:
                continue
            length = _parse_content_length(value)
            if content_length is not None and length != content_length:
                raise ValueError('conflicting Content-Length headers')
            content_length = length
        lines.append(f'{name}: {value}\r\n')
    block = ''.join(lines)
    # Names are tokens, so each line has exactly one CR and one LF unless a value has more.
    if block.count('\n') != len(lines) or block.count('\r') != len(lines) or '\0' in block:
        bad = next(name for name, value in headers if _has_forbidden_value_char(value))
        raise ValueError('header %s has a CR, LF or NUL in its value' % bad)
    try:
        return block.encode('latin-1'), content_length
    except UnicodeEncodeError:
        raise ValueError('header values must be latin-1 text (encode others, e.g. RFC 8187)') from None


def _parse_content_length(value):
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise ValueError('invalid Content-Length %r' % value)
    return int(value)


def _as_bytes(data):
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError('WSGI response body chunks must be bytes, not %s' % type(data).__name__)


class Response:
    """One response: PEP 3333's start_response()/write() and the body framing.

    The head goes out with the first non-empty body chunk (or at the end), so an app can
    still change its mind through start_response(..., exc_info) until then.
    """

    __slots__ = ('_sock', '_is_head', 'status', '_status_bytes', '_header_bytes',
                 '_content_length', '_no_body', 'headers_sent', '_chunked', '_unsent',
                 '_overflow_logged')

    def __init__(self, sock, is_head):
        self._sock = sock
        self._is_head = is_head
        self.status = None
        self.headers_sent = False
        self._chunked = False
        self._unsent = None
        self._overflow_logged = False

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.headers_sent:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # do not keep the traceback (and its frames) alive
        elif self.status is not None:
            raise AssertionError('start_response() called twice without exc_info')
        status_bytes, forbids_body = _parse_status(status)
        self._header_bytes, self._content_length = _check_headers(headers)
        self._status_bytes = status_bytes
        self._no_body = self._is_head or forbids_body
        self.status = status
        return self.write

    def _head(self, total_length):
        """The status line and headers, with the framing header this response needs."""
        if self.status is None:
            raise AssertionError('the application did not call start_response()')
        self.headers_sent = True
        if self._no_body or self._content_length is not None:
            framing = b''
        elif total_length is not None:
            self._content_length = total_length
            framing = b'Content-Length: %d\r\n' % total_length
        else:
            self._chunked = True
            framing = b'Transfer-Encoding: chunked\r\n'
        self._unsent = self._content_length
        return b''.join((b'HTTP/1.1 ', self._status_bytes, b'\r\n', self._header_bytes, framing, b'\r\n'))

    def _sendall(self, data):
        try:
            self._sock.sendall(data)
        except OSError as error:
            raise ClientDisconnected(str(error)) from error

    def write(self, data):
        """The write() callable; also sends each chunk of the returned iterable."""
        if type(data) is not bytes:
            data = _as_bytes(data)
        if not data:
            return
        head = b'' if self.headers_sent else self._head(None)
        if self._no_body:
            if head:
                self._sendall(head)
        elif self._chunked:
            self._sendall(b''.join((head, b'%x\r\n' % len(data), data, b'\r\n')))
        else:
            data = self._fit_to_content_length(data)
            self._sendall(head + data if head else data)

    def _fit_to_content_length(self, data):
        unsent = self._unsent
        if len(data) > unsent:
            if not self._overflow_logged:
                self._overflow_logged = True
                log('the application sent more than its Content-Length; the excess was dropped')
            data = data[:unsent]
        self._unsent = unsent - len(data)
        return data

    def send(self, result):
        """Sends everything the application returned."""
        if not self.headers_sent:
            if type(result) is list or type(result) is tuple:
                self._send_whole(result)
                return
            if isinstance(result, FileWrapper) and self._send_file(result):
                return
        write = self.write
        for chunk in result:
            if chunk:
                write(chunk)
        self.finish()

    def _send_whole(self, chunks):
        """A list's length is known up front: one Content-Length response, one sendall."""
        if len(chunks) == 1 and type(chunks[0]) is bytes:
            body = chunks[0]
        else:
            body = b''.join(chunks)
        head = self._head(len(body))
        if self._no_body or not body:
            self._sendall(head)
        else:
            self._sendall(head + self._fit_to_content_length(body))
        self._report_short_body()

    def _send_file(self, wrapper):
        """sendfile() for a wsgi.file_wrapper with a known length; False to fall back to iterating."""
        if self._no_body or not self._content_length or self.status is None:
            return False
        filelike = wrapper.filelike
        if 'b' not in getattr(filelike, 'mode', 'b'):
            return False  # socket.sendfile() refuses text-mode files
        try:
            filelike.fileno()
            offset = filelike.tell()
        except (AttributeError, OSError, io.UnsupportedOperation):
            return False
        self._sendall(self._head(None))
        try:
            sent = self._sock.sendfile(filelike, offset, self._content_length)
        except OSError as error:
            raise ClientDisconnected(str(error)) from error
        self._unsent -= sent
        self._report_short_body()
        return True

    def finish(self):
        """Ends the body: sends the head if nothing was sent yet, or the last chunk."""
        if not self.headers_sent:
            self._sendall(self._head(0))
        elif self._chunked:
            self._sendall(b'0\r\n\r\n')
        self._report_short_body()

    def complete(self):
        """True when the response went out whole, exactly as framed (the connection may
        carry another request)."""
        return self.headers_sent and (self._no_body or not self._unsent)

    def _report_short_body(self):
        if self._unsent and not self._no_body:
            log('the response ended %d bytes short of its Content-Length' % self._unsent)

    def fail(self):
        """Answers 500 when nothing was sent yet; afterwards all we can do is close."""
        if self.headers_sent:
            return
        self.headers_sent = True
        self._sendall(INTERNAL_ERROR_HEAD if self._is_head else INTERNAL_ERROR_HEAD + INTERNAL_ERROR_BODY)


def _decode_path(path):
    """PATH_INFO is percent-decoded bytes carried in a latin-1 str (CGI/WSGI convention)."""
    if '%' not in path:
        return path
    return unquote_to_bytes(path.encode('latin-1')).decode('latin-1')


def _path_from_request_uri(environ):
    path = environ.get('REQUEST_URI', '/').partition('?')[0]
    script_name = environ['SCRIPT_NAME']
    if script_name and path.startswith(script_name):
        path = path[len(script_name):]
    return path


class WsgiSessionServer:
    """Accepts session-protocol connections on a Unix socket and runs each through the app.

    A worker thread serves one connection at a time, all its requests while the core keeps
    it; on stop(), workers waiting for a kept-alive connection's next head close it."""

    # The socket line's flags: this server keeps connections when asked.
    SOCKET_FLAGS = 'keepalive'

    def __init__(self, application, connect_password, threads=1):
        self._app = application
        self._password = connect_password.encode('utf-8')
        self.threads = threads
        self.socket_path = None
        self._listener = None
        self._workers = []
        self._stopping = False
        # Kept-alive connections whose worker waits in recv() for the next head: stop() shuts them
        # down, which ends that recv(). Waiting is one recv() then, where poll() and recv() took two syscalls.
        self._waiting = set()
        self._waiting_lock = threading.Lock()
        self._base_environ = {
            'SCRIPT_NAME': '',
            'QUERY_STRING': '',
            'SERVER_NAME': 'localhost',
            'SERVER_PORT': '80',
            'SERVER_PROTOCOL': 'HTTP/1.1',
            'wsgi.version': (1, 0),
            'wsgi.url_scheme': 'http',
            'wsgi.multithread': threads > 1,
            'wsgi.multiprocess': True,
            'wsgi.run_once': False,
            'wsgi.file_wrapper': FileWrapper,
            # The body ends at EOF even without CONTENT_LENGTH (chunked uploads).
            'wsgi.input_terminated': True,
        }

    # -- lifecycle -------------------------------------------------------------------

    def listen(self, socket_dir):
        """Binds ``<socket_dir>/wsgi.<pid>.<random>.sock``, readable by our user only."""
        path = os.path.join(socket_dir, 'wsgi.%d.%s.sock' % (os.getpid(), secrets.token_hex(8)))
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            previous_umask = os.umask(0o177)  # no window in which the socket is 0755
            try:
                listener.bind(path)
            except OSError as error:  # name the path: "No such file or directory" alone is a riddle
                if error.errno is None:
                    raise OSError('%s: %r' % (error, path)) from None
                raise OSError(error.errno, error.strerror, path) from None
            finally:
                os.umask(previous_umask)
            listener.listen(max(socket.SOMAXCONN, 128))
        except BaseException:
            listener.close()
            raise
        self._listener = listener
        self.socket_path = path
        return path

    def start(self):
        for number in range(self.threads):
            worker = threading.Thread(target=self._accept_loop, name='wsgi-worker-%d' % number, daemon=True)
            worker.start()
            self._workers.append(worker)

    def _accept_loop(self):
        accept, serve = self._listener.accept, self.serve_connection
        while not self._stopping:
            try:
                conn, _ = accept()
            except OSError as error:
                if self._stopping:
                    return
                log('accept() failed: %s' % error)
                time.sleep(0.1)  # e.g. out of file descriptors: back off rather than spin
                continue
            serve(conn)

    def stop(self, grace_seconds):
        """Stops accepting, waits (bounded) for requests in flight, removes the socket.

        Returns True when every worker finished within the grace period.
        """
        with self._waiting_lock:
            self._stopping = True
            waiting = list(self._waiting)
        for conn in waiting:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed meanwhile
        self._wake_acceptors()
        deadline = time.monotonic() + grace_seconds
        for worker in self._workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self.close()
        return not any(worker.is_alive() for worker in self._workers)

    def _wake_acceptors(self):
        """Connects once per worker so each one blocked in accept() wakes up and sees we are
        stopping; an empty connection is served as a no-op. Portable, unlike shutdown()
        on a listening socket."""
        for _ in self._workers:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as waker:
                    waker.settimeout(1.0)
                    waker.connect(self.socket_path)
            except OSError:
                return

    def close(self):
        """Removes the socket file and closes the listener, without waiting for anyone."""
        self._stopping = True
        if self.socket_path is not None:
            try:
                os.unlink(self.socket_path)
            except FileNotFoundError:
                pass
        if self._listener is not None:
            self._listener.close()

    # -- one connection ----------------------------------------------------------------

    def serve_connection(self, conn):
        body = None
        waiting = False
        try:
            while True:
                try:
                    request = self._read_request(conn)
                finally:
                    if waiting:
                        waiting = False
                        with self._waiting_lock:
                            self._waiting.discard(conn)
                if request is None:
                    break
                environ, body, keep_alive = request
                answered = self._run_application(conn, environ)
                if not keep_alive:
                    break
                # The body must be consumed whole for the next head to follow it.
                reusable = body.skip_rest() and answered
                body = None
                if not reusable:
                    break
                with self._waiting_lock:
                    if self._stopping:
                        break
                    self._waiting.add(conn)
                waiting = True
        except ClientDisconnected as error:
            log('the connection closed before the response was complete (%s)' % error)
        except OSError as error:
            log('connection error: %s' % error)
        except Exception:
            log('internal error while serving a request:\n' + traceback.format_exc())
        finally:
            self._close_connection(conn, body)

    def _read_head(self, conn):
        """Reads the length-prefixed head; returns (head bytes, body bytes read along) or None."""
        data = conn.recv(RECV_SIZE)
        while len(data) < 4:
            more = conn.recv(RECV_SIZE)
            if not more:
                if data:
                    log('the connection closed in the middle of a request head')
                return None  # also how our own wake-up connections look
            data += more
        end = 4 + int.from_bytes(data[:4], 'big')
        if end - 4 > MAX_HEAD_SIZE:
            log('rejected a request head of %d bytes' % (end - 4))
            return None
        if len(data) < end:
            parts = [data]
            received = len(data)
            while received < end:
                more = conn.recv(max(RECV_SIZE, end - received))
                if not more:
                    log('the connection closed in the middle of a request head')
                    return None
                parts.append(more)
                received += len(more)
            data = b''.join(parts)
        return data[4:end], data[end:]

    def _check_password(self, head):
        """The first pair must be the connect password; returns where the other pairs start, or -1."""
        key_end = head.find(b'\0')
        value_end = head.find(b'\0', key_end + 1)
        if (key_end < 0 or value_end < 0 or head[:key_end] != PASSWORD_KEY
                or not hmac.compare_digest(head[key_end + 1:value_end], self._password)):
            return -1
        return value_end + 1

    def _read_request(self, conn):
        """Returns (environ, wsgi.input) for the request on conn, or None to close it unanswered."""
        received = self._read_head(conn)
        if received is None:
            return None
        head, body_start = received
        pairs_start = self._check_password(head)
        if pairs_start < 0:
            log('closed a connection with a wrong or missing connect password')
            return None
        fields = head[pairs_start:].decode('latin-1').split('\0')
        if fields[-1] or len(fields) % 2 == 0:
            log('closed a connection with a malformed request head')
            return None
        keep_alive = fields[0] == 'PASSENGER_KEEP_ALIVE'
        environ = self._base_environ.copy()
        environ.update(zip(fields[0::2], fields[1::2]))
        if keep_alive:
            del environ['PASSENGER_KEEP_ALIVE']
        return self._complete_environ(environ, conn, body_start, keep_alive)

    def _complete_environ(self, environ, conn, body_start, keep_alive=False):
        path = environ.get('PATH_INFO')
        if path is None:
            path = _path_from_request_uri(environ)
        environ['PATH_INFO'] = _decode_path(path)
        content_length = environ.get('CONTENT_LENGTH')
        if content_length is not None:
            if content_length.isdigit():
                content_length = int(content_length)
            else:
                del environ['CONTENT_LENGTH']
                content_length = None
        if content_length is None and keep_alive:
            content_length = 0  # no body: a kept-alive request's length is always known
        https = environ.get('HTTPS')
        if https and https.lower() in ('on', '1', 'true', 'yes'):
            environ['wsgi.url_scheme'] = 'https'
        body = RequestBody(conn, body_start, content_length)
        environ['wsgi.input'] = body
        environ['wsgi.errors'] = sys.stderr
        return environ, body, keep_alive

    def _run_application(self, conn, environ):
        """Returns True when the app answered without an error and the response is complete."""
        response = Response(conn, environ.get('REQUEST_METHOD') == 'HEAD')
        result = None
        try:
            result = self._app(environ, response.start_response)
            response.send(result)
            return response.complete()
        except ClientDisconnected:
            raise
        except (Exception, SystemExit):
            log('error while handling %s %s:\n%s' % (
                environ.get('REQUEST_METHOD'), environ.get('REQUEST_URI', environ['PATH_INFO']),
                traceback.format_exc().rstrip('\n')))
            response.fail()
            return False
        finally:
            close = getattr(result, 'close', None)
            if close is not None:
                try:
                    close()
                except (Exception, SystemExit):
                    log("error in the response iterable's close():\n" + traceback.format_exc())

    def _close_connection(self, conn, body):
        try:
            if body is not None and not body.fully_received():
                conn.shutdown(socket.SHUT_WR)  # the core has the whole response now
                conn.settimeout(DRAIN_TIMEOUT_SECONDS)
                body.discard_rest(DRAIN_LIMIT)
        except OSError:
            pass
        finally:
            conn.close()
