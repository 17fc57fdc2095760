"""One ASGI ``http`` request (ASGI 3, HTTP spec 2.3): the app's receive() and send().

receive() hands out the request body as it arrives (``more_body`` until the end), then
``http.disconnect`` once the response is complete or the core closed the connection.
send() checks each message before anything reaches the wire; the head goes out with the
first body message, framed by the app's Content-Length, by the length of a single body
message, or in chunks. Trailers are refused: the scope does not offer the extension, and
an app that announces them anyway gets an error naming it.
"""

from passenger_http_rules import (
    HOP_BY_HOP_HEADERS, INTERNAL_ERROR_BODY, INTERNAL_ERROR_HEAD, has_forbidden_value_byte, is_token_bytes,
    status_forbids_body,
)

_HOP_BY_HOP_BYTES = frozenset(name.encode() for name in HOP_BY_HOP_HEADERS)
_DISCONNECT = {'type': 'http.disconnect'}
# Pieces of a response up to this size are joined into one write (one send() for small responses).
JOIN_LIMIT = 16 * 1024
WRITE_SLICE = 256 * 1024
_REASONS = {
    100: 'Continue', 101: 'Switching Protocols', 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
    206: 'Partial Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 304: 'Not Modified',
    307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
    403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone',
    413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content',
    429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
    504: 'Gateway Timeout',
}
_status_lines = {}


class AppProtocolError(RuntimeError):
    """The app sent a message ASGI does not allow at this point; raised into the app."""


def status_line(status):
    line = _status_lines.get(status)
    if line is None:
        if type(status) is not int or not 100 <= status <= 599:
            raise AppProtocolError('http.response.start: status must be an int from 100 to 599, got %r' % (status,))
        line = b'HTTP/1.1 %d %s\r\n' % (status, _REASONS.get(status, 'Status').encode())
        if len(_status_lines) < 512:
            _status_lines[status] = line
    return line


def encode_headers(headers, where):
    """The app's headers as wire lines; returns (lines, Content-Length or None). Hop-by-hop
    headers are dropped: the framing is ours."""
    lines = []
    content_length = None
    for pair in headers:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise AppProtocolError('%s: headers must be [name, value] pairs, got %r' % (where, pair)) from None
        if type(name) is not bytes or type(value) is not bytes:
            raise AppProtocolError('%s: header names and values must be bytes, got %r' % (where, pair))
        if not is_token_bytes(name):
            raise AppProtocolError('%s: invalid header name %r' % (where, name))
        if has_forbidden_value_byte(value):
            raise AppProtocolError('%s: header %s has a CR, LF or NUL in its value' % (where, name.decode()))
        lower = name.lower()
        if lower in _HOP_BY_HOP_BYTES:
            continue
        if lower == b'content-length':
            if not value.strip().isdigit():
                raise AppProtocolError('%s: invalid Content-Length %r' % (where, value))
            content_length = int(value)
        lines.append(b'%s: %s\r\n' % (name, value))
    return lines, content_length


class HttpCycle:
    """Created by the connection for each request; the connection feeds it body bytes."""

    __slots__ = ('conn', 'is_head', 'keep_alive', '_body', '_body_size', '_more_body', '_waiter',
                 'disconnected', 'started', 'complete', '_status', '_head_lines', '_content_length',
                 '_no_body', '_unsent', 'failed', '_delivered_all')

    def __init__(self, conn, is_head, keep_alive, has_body):
        self.conn = conn
        self.is_head = is_head
        self.keep_alive = keep_alive
        self._body = []
        self._body_size = 0
        self._more_body = has_body
        self._delivered_all = False
        self._waiter = None
        self.disconnected = False
        self.started = False
        self.complete = False
        self.failed = False
        self._status = None
        self._unsent = None

    # -- fed by the connection -------------------------------------------------------

    def feed_body(self, data, more_body):
        if data:
            self._body.append(data)
            self._body_size += len(data)
        self._more_body = more_body
        self._wake()

    def body_buffered(self):
        return self._body_size

    def lose_connection(self):
        self.disconnected = True
        self._wake()

    def _wake(self):
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- receive ---------------------------------------------------------------------

    async def receive(self):
        if self._delivered_all:
            # Nothing more to read: the next event is the client going away, or the response's end.
            while not self.disconnected and not self.complete:
                await self._wait()
            return _DISCONNECT
        while not self._body and self._more_body and not self.disconnected:
            self.conn.want_body()
            await self._wait()
        if self._body:
            body = self._body[0] if len(self._body) == 1 else b''.join(self._body)
            self._body = []
            self._body_size = 0
            self.conn.body_consumed()
        elif self.disconnected:
            return _DISCONNECT
        else:
            body = b''
        more = self._more_body
        if not more:
            self._delivered_all = True
        return {'type': 'http.request', 'body': body, 'more_body': more}

    async def _wait(self):
        self._waiter = self.conn.loop.create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    # -- send ------------------------------------------------------------------------

    async def send(self, message):
        kind = message.get('type') if isinstance(message, dict) else None
        if kind == 'http.response.body':
            if not self.started or self.complete:
                raise AppProtocolError('http.response.body sent %s' % (
                    'before http.response.start' if not self.started else 'after the response was complete'))
            body = message.get('body', b'')
            if type(body) is not bytes:
                if isinstance(body, (bytearray, memoryview)):
                    body = bytes(body)
                else:
                    raise AppProtocolError('http.response.body: body must be bytes, not %s' % type(body).__name__)
            more = bool(message.get('more_body', False))
            if self.disconnected:
                return  # ASGI: sends after a disconnect are no-ops
            conn = self.conn
            for part in self._frame(body, more):
                if len(part) <= WRITE_SLICE:
                    conn.write(part)
                    continue
                # A large body goes out in slices, each once the socket took the previous one:
                # handing asyncio 1 MiB at once costs a copy of the unsent rest into its buffer.
                view = memoryview(part)
                for start in range(0, len(part), WRITE_SLICE):
                    conn.write(view[start:start + WRITE_SLICE])
                    await conn.drain()
            if more:
                await conn.drain()
            else:
                self._finish_body()
            return
        if kind == 'http.response.start':
            if self.started:
                raise AppProtocolError('http.response.start sent twice')
            if message.get('trailers'):
                raise AppProtocolError(
                    'http.response.start announced trailers, but this server does not send response trailers '
                    "(the scope's extensions have no 'http.response.trailers'); send the values as headers instead")
            status = message.get('status')
            line = status_line(status)
            lines, content_length = encode_headers(message.get('headers', ()), 'http.response.start')
            self.started = True
            self._status = status
            self._head_lines = [line] + lines
            self._content_length = content_length
            self._no_body = self.is_head or status_forbids_body(status)
            return
        if kind == 'http.response.trailers':
            raise AppProtocolError('http.response.trailers: this server does not send response trailers')
        raise AppProtocolError('unexpected message %r in an http connection' % (kind if kind else message,))

    def _frame(self, body, more):
        """What goes on the wire for one body message, in order. _unsent: None before the
        head went out, -1 when chunked, else body bytes still owed. Small pieces are joined
        into one write; a large body stays a part of its own (send() slices it)."""
        parts = []
        if self._unsent is None:
            parts.append(self._head(body, more))
        if self._no_body:
            pass
        elif self._unsent == -1:
            if body:
                parts += (b'%x\r\n' % len(body), body, b'\r\n')
            if not more:
                parts.append(b'0\r\n\r\n')
        elif body:
            parts.append(self._fit(body))
        if len(parts) > 1 and sum(len(part) for part in parts) <= JOIN_LIMIT:
            return [b''.join(parts)]
        return parts

    def _finish_body(self):
        self.complete = True
        if self._unsent > 0 and not self._no_body:
            self.conn.log('the response to %s ended %d bytes short of its Content-Length' % (
                self.conn.describe(), self._unsent))
            self.failed = True
        self._wake()

    def _head(self, body, more):
        """The status line and headers with this response's framing."""
        head = self._head_lines
        if self._no_body:
            self._unsent = 0
            if self.is_head and self._content_length is None and not more and not status_forbids_body(self._status):
                head.append(b'Content-Length: %d\r\n' % len(body))  # what GET would say
        elif self._content_length is not None:
            self._unsent = self._content_length
        elif not more:
            self._unsent = len(body)
            head.append(b'Content-Length: %d\r\n' % len(body))
        else:
            self._unsent = -1
            head.append(b'Transfer-Encoding: chunked\r\n')
        if not self.keep_alive:
            head.append(b'Connection: close\r\n')
        head.append(b'\r\n')
        return b''.join(head)

    def _fit(self, body):
        if len(body) > self._unsent:
            self.conn.log('the app sent more than its Content-Length for %s; the excess was dropped'
                          % self.conn.describe())
            body = body[:self._unsent]
        self._unsent -= len(body)
        return body

    def fail(self):
        """The app raised or returned without a complete response: 500 if nothing was sent,
        else the connection is closed mid-response (the core then reports it)."""
        self.failed = True
        if self._unsent is None and not self.disconnected:
            self.conn.write(INTERNAL_ERROR_HEAD if self.is_head else INTERNAL_ERROR_HEAD + INTERNAL_ERROR_BODY)
            self.complete = True
            self.keep_alive = False

    def finished_cleanly(self):
        return self.complete and not self.failed

