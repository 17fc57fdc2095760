"""The WSGI response (PEP 3333): start_response() and write(), header checks, and the
framing of the body on a session connection (Content-Length or chunked)."""

import io
import re

from passenger_http_rules import (
    HOP_BY_HOP_HEADERS, INTERNAL_ERROR_BODY, INTERNAL_ERROR_HEAD, has_forbidden_value_char, is_token,
    parse_content_length,
)
from passenger_session_socket import ClientDisconnected, make_log
from wsgi_input import FileWrapper

_is_valid_status = re.compile(r'[1-5][0-9][0-9] [^\r\n\0]*\Z').match
log = make_log('wsgi-loader')


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
    if not is_token(name):
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
            length = parse_content_length(value)
            if content_length is not None and length != content_length:
                raise ValueError('conflicting Content-Length headers')
            content_length = length
        lines.append(f'{name}: {value}\r\n')
    block = ''.join(lines)
    # Names are tokens, so each line has exactly one CR and one LF unless a value has more.
    if block.count('\n') != len(lines) or block.count('\r') != len(lines) or '\0' in block:
        bad = next(name for name, value in headers if has_forbidden_value_char(value))
        raise ValueError('header %s has a CR, LF or NUL in its value' % bad)
    try:
        return block.encode('latin-1'), content_length
    except UnicodeEncodeError:
        raise ValueError('header values must be latin-1 text (encode others, e.g. RFC 8187)') from None


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
