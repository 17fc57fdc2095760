"""One ASGI ``websocket`` connection (ASGI 3, WebSocket spec 2.3) over an upgraded HTTP
connection, with the RFC 6455 framing done here: the handshake answer (101) on
``websocket.accept``, a 403 on ``websocket.close`` before it, or the app's own denial
response (extension ``websocket.http.response``); then text and binary messages both
ways, pings answered, and close codes passed on in both directions."""

import base64
import hashlib
import struct

from asgi_http_cycle import AppProtocolError, encode_headers, status_line

WEBSOCKET_GUID = b'258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
MAX_MESSAGE_SIZE = 16 * 1024 * 1024
CLOSE_TIMEOUT_SECONDS = 5.0

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011

_DENIED = b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key + WEBSOCKET_GUID).digest())


def frame(opcode, payload):
    """A server frame: final, unmasked."""
    length = len(payload)
    if length < 126:
        header = struct.pack('!BB', 0x80 | opcode, length)
    elif length < 65536:
        header = struct.pack('!BBH', 0x80 | opcode, 126, length)
    else:
        header = struct.pack('!BBQ', 0x80 | opcode, 127, length)
    return header + payload


def close_payload(code, reason=''):
    if code in (CLOSE_NO_STATUS, CLOSE_ABNORMAL):
        return b''
    return struct.pack('!H', code) + reason.encode('utf-8')[:123]


def _unmask(payload, mask):
    if not payload:
        return payload
    # XOR with the 4-byte key repeated, done on one big integer: fast without numpy.
    key = (mask * (len(payload) // 4 + 1))[:len(payload)]
    size = len(payload)
    return (int.from_bytes(payload, 'little') ^ int.from_bytes(key, 'little')).to_bytes(size, 'little')


class FrameError(Exception):
    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code


class FrameParser:
    """Client frames in, complete (opcode, payload) messages and control frames out."""

    def __init__(self):
        self._buffer = b''
        self._fragments = []
        self._fragments_size = 0
        self._fragment_opcode = None

    def feed(self, data):
        self._buffer += data
        events = []
        while True:
            parsed = self._next_frame()
            if parsed is None:
                return events
            fin, opcode, payload = parsed
            if opcode >= 0x8:
                if not fin or len(payload) > 125:
                    raise FrameError(CLOSE_PROTOCOL_ERROR, 'a fragmented or oversized control frame')
                events.append((opcode, payload))
                continue
            if opcode == OP_CONTINUATION:
                if self._fragment_opcode is None:
                    raise FrameError(CLOSE_PROTOCOL_ERROR, 'a continuation frame without a message to continue')
            elif opcode in (OP_TEXT, OP_BINARY):
                if self._fragment_opcode is not None:
                    raise FrameError(CLOSE_PROTOCOL_ERROR, 'a new message before the previous one ended')
                self._fragment_opcode = opcode
            else:
                raise FrameError(CLOSE_PROTOCOL_ERROR, 'unknown opcode %d' % opcode)
            self._fragments.append(payload)
            self._fragments_size += len(payload)
            if self._fragments_size > MAX_MESSAGE_SIZE:
                raise FrameError(CLOSE_TOO_BIG, 'a message over %d bytes' % MAX_MESSAGE_SIZE)
            if fin:
                events.append((self._fragment_opcode, b''.join(self._fragments)))
                self._fragments = []
                self._fragments_size = 0
                self._fragment_opcode = None

    def _next_frame(self):
        buffer = self._buffer
        if len(buffer) < 2:
            return None
        first, second = buffer[0], buffer[1]
        if first & 0x70:
            raise FrameError(CLOSE_PROTOCOL_ERROR, 'reserved bits set (no extension was negotiated)')
        if not second & 0x80:
            raise FrameError(CLOSE_PROTOCOL_ERROR, 'an unmasked client frame')
        length = second & 0x7F
        pos = 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length = struct.unpack_from('!H', buffer, 2)[0]
            pos = 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length = struct.unpack_from('!Q', buffer, 2)[0]
            pos = 10
        if length > MAX_MESSAGE_SIZE:
            raise FrameError(CLOSE_TOO_BIG, 'a frame over %d bytes' % MAX_MESSAGE_SIZE)
        end = pos + 4 + length
        if len(buffer) < end:
            return None
        mask = buffer[pos:pos + 4]
        payload = _unmask(buffer[pos + 4:end], mask)
        self._buffer = buffer[end:]
        return bool(first & 0x80), first & 0x0F, payload


class WebSocketSession:
    """The app's receive() and send() for one websocket scope; the connection feeds it bytes."""

    def __init__(self, conn, key):
        self.conn = conn
        self._key = key
        self._events = []
        self._waiter = None
        self._parser = FrameParser()
        self.state = 'connecting'  # connecting, open, denied, closing, closed
        self._connect_delivered = False
        self._close_code = None
        self._denial_started = False
        self.accepted = False
        self._early = []

    # -- fed by the connection -------------------------------------------------------

    def feed(self, data):
        if self.state == 'connecting':
            self._early.append(data)  # frames a client sent right after its handshake
            return
        if self.state not in ('open', 'closing'):
            return
        try:
            events = self._parser.feed(data)
        except FrameError as error:
            self.conn.log('closing a WebSocket: %s' % error)
            self._send_close(error.code, '')
            self._finish(error.code)
            return
        for opcode, payload in events:
            if opcode == OP_PING:
                self.conn.write(frame(OP_PONG, payload))
            elif opcode == OP_PONG:
                pass
            elif opcode == OP_CLOSE:
                code = struct.unpack('!H', payload[:2])[0] if len(payload) >= 2 else CLOSE_NO_STATUS
                if self.state == 'open':
                    self._send_close(code if code != CLOSE_NO_STATUS else CLOSE_NORMAL, '')
                self._finish(code)
                return
            elif opcode == OP_TEXT:
                try:
                    text = payload.decode('utf-8')
                except UnicodeDecodeError:
                    self._send_close(CLOSE_INVALID_DATA, 'invalid UTF-8')
                    self._finish(CLOSE_INVALID_DATA)
                    return
                self._push({'type': 'websocket.receive', 'text': text})
            else:
                self._push({'type': 'websocket.receive', 'bytes': payload})

    def lose_connection(self):
        if self.state != 'closed':
            self._finish(CLOSE_ABNORMAL)

    def _push(self, event):
        self._events.append(event)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _finish(self, code):
        if self.state == 'closed':
            return
        self.state = 'closed'
        self._close_code = code
        self._push({'type': 'websocket.disconnect', 'code': code})
        self.conn.close_transport()

    def _send_close(self, code, reason):
        if self.state in ('open',):
            self.conn.write(frame(OP_CLOSE, close_payload(code, reason)))
            self.state = 'closing'

    # -- receive ---------------------------------------------------------------------

    async def receive(self):
        if not self._connect_delivered:
            self._connect_delivered = True
            return {'type': 'websocket.connect'}
        while not self._events:
            if self.state in ('denied',) or (self.state == 'closed' and not self._events):
                return {'type': 'websocket.disconnect', 'code': self._close_code or CLOSE_ABNORMAL}
            self._waiter = self.conn.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._events.pop(0)

    # -- send ------------------------------------------------------------------------

    async def send(self, message):
        kind = message.get('type') if isinstance(message, dict) else None
        state = self.state
        if kind == 'websocket.send':
            if state in ('closing', 'closed'):
                return  # the peer is gone or going; like a send after a disconnect
            if state != 'open':
                raise AppProtocolError('websocket.send before websocket.accept')
            text, data = message.get('text'), message.get('bytes')
            if text is not None:
                self.conn.write(frame(OP_TEXT, text.encode('utf-8')))
            elif data is not None:
                self.conn.write(frame(OP_BINARY, bytes(data)))
            else:
                raise AppProtocolError('websocket.send needs "text" or "bytes"')
            await self.conn.drain()
        elif kind == 'websocket.accept':
            if state != 'connecting':
                raise AppProtocolError('websocket.accept sent twice, or after close')
            self._accept(message)
        elif kind == 'websocket.close':
            if state == 'connecting':
                self.conn.write(_DENIED)
                self._deny()
            elif state == 'open':
                code = message.get('code', CLOSE_NORMAL) or CLOSE_NORMAL
                self._send_close(code, message.get('reason') or '')
                self._close_code = code
                self.conn.call_later(CLOSE_TIMEOUT_SECONDS, self.lose_connection)
        elif kind == 'websocket.http.response.start':
            if state != 'connecting':
                raise AppProtocolError('websocket.http.response.start after the handshake was answered')
            lines, _ = encode_headers(message.get('headers', ()), kind)
            self._denial_head = [status_line(message.get('status'))] + lines
            self._denial_body = []
            self._denial_started = True
            self.state = 'denying'
        elif kind == 'websocket.http.response.body':
            if state != 'denying':
                raise AppProtocolError('websocket.http.response.body without websocket.http.response.start')
            self._denial_body.append(bytes(message.get('body', b'')))
            if not message.get('more_body', False):
                body = b''.join(self._denial_body)
                self.conn.write(b''.join(self._denial_head) + b'Content-Length: %d\r\nConnection: close\r\n\r\n'
                                % len(body) + body)
                self._deny()
        else:
            raise AppProtocolError('unexpected message %r in a websocket connection' % (kind or message,))

    def _accept(self, message):
        head = [b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n',
                b'Sec-WebSocket-Accept: %s\r\n' % accept_key(self._key)]
        subprotocol = message.get('subprotocol')
        if subprotocol:
            head.append(b'Sec-WebSocket-Protocol: %s\r\n' % subprotocol.encode('latin-1'))
        lines, _ = encode_headers(message.get('headers', ()), 'websocket.accept')
        head.extend(line for line in lines if not line.lower().startswith(b'sec-websocket-'))
        head.append(b'\r\n')
        self.conn.write(b''.join(head))
        self.state = 'open'
        self.accepted = True
        early, self._early = b''.join(self._early), []
        if early:
            self.feed(early)

    def _deny(self):
        self.state = 'denied'
        self._close_code = 1006
        self.conn.close_transport()

    def app_ended(self, error):
        """After the app returned or raised: an unanswered handshake gets 403 (500 on an
        error), an open connection a close frame (1011 on an error)."""
        if self.state == 'connecting':
            self.conn.write(b'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
                            if error else _DENIED)
            self._deny()
        elif self.state == 'denying':
            self.conn.close_transport()
        elif self.state == 'open':
            self._send_close(CLOSE_INTERNAL_ERROR if error else CLOSE_NORMAL, '')
            self.conn.call_later(CLOSE_TIMEOUT_SECONDS, self.lose_connection)
        elif self.state == 'closing':
            self.conn.call_later(CLOSE_TIMEOUT_SECONDS, self.lose_connection)

    def going_away(self):
        """The server is stopping."""
        if self.state == 'open':
            self._send_close(CLOSE_GOING_AWAY, 'server stopping')
