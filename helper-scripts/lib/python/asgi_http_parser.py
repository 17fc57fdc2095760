"""Incremental parsing of what the core sends an ``http_session`` app (docs/protocols.md,
section 4): HTTP/1.1 request heads, and bodies framed by Content-Length or chunks.
The core has validated the client's request already; anything malformed here is a bug
on the wire and closes the connection."""

MAX_HEAD_SIZE = 1 << 20


class BadRequest(Exception):
    """A request this server cannot parse; the message says what was wrong."""


class RequestHead:
    __slots__ = ('method', 'target', 'http_version', 'headers', 'content_length', 'chunked',
                 'keep_alive', 'upgrade')

    def __init__(self, method, target, http_version, headers):
        self.method = method
        self.target = target
        self.http_version = http_version
        self.headers = headers  # [(lowercased name bytes, value bytes)]
        self.content_length = 0
        self.chunked = False
        self.keep_alive = http_version == '1.1'
        self.upgrade = None  # b'websocket' for a WebSocket handshake


def parse_head(data):
    """Parses a head (up to and without its blank line) into a RequestHead."""
    lines = data.split(b'\r\n')
    parts = lines[0].split(b' ')
    if len(parts) != 3 or not parts[2].startswith(b'HTTP/1.'):
        raise BadRequest('malformed request line %r' % lines[0][:200])
    method, target, version = parts
    head = RequestHead(method.decode('ascii', 'replace'), target, version[5:].decode('ascii', 'replace'), [])
    headers = head.headers
    connection_tokens = ()
    for line in lines[1:]:
        name, colon, value = line.partition(b':')
        if not colon or not name or name != name.strip():
            raise BadRequest('malformed header line %r' % line[:200])
        name = name.lower()
        value = value.strip(b' \t')
        headers.append((name, value))
        if name == b'content-length':
            if not value.isdigit():
                raise BadRequest('invalid Content-Length %r' % value[:50])
            head.content_length = int(value)
        elif name == b'transfer-encoding':
            head.chunked = value.lower().endswith(b'chunked')
        elif name == b'connection':
            connection_tokens = [token.strip().lower() for token in value.split(b',')]
        elif name == b'upgrade':
            head.upgrade = value.lower()
    if b'close' in connection_tokens:
        head.keep_alive = False
    elif b'keep-alive' in connection_tokens:
        head.keep_alive = True
    if head.upgrade is not None and b'upgrade' not in connection_tokens:
        head.upgrade = None
    if head.chunked:
        head.content_length = None
    return head


class ChunkedDecoder:
    """Decodes a chunked body fed in arbitrary pieces (trailers are read and dropped)."""

    __slots__ = ('_buffer', '_remaining', '_state', 'done')

    def __init__(self):
        self._buffer = b''
        self._remaining = 0
        self._state = 'size'  # size, data, data_end, trailer
        self.done = False

    def feed(self, data):
        """Returns (decoded body bytes, bytes after the body's end)."""
        buffer = self._buffer + data if self._buffer else data
        self._buffer = b''
        out = []
        pos = 0
        while not self.done:
            state = self._state
            if state == 'data':
                take = min(self._remaining, len(buffer) - pos)
                if take == 0:
                    break
                out.append(buffer[pos:pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = 'data_end'
                continue
            end = buffer.find(b'\r\n', pos)
            if end < 0:
                if len(buffer) - pos > 4096:
                    raise BadRequest('a chunk size or trailer line longer than 4096 bytes')
                break
            line = buffer[pos:end]
            pos = end + 2
            if state == 'size':
                size_text = line.split(b';', 1)[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise BadRequest('invalid chunk size %r' % size_text[:20]) from None
                if size == 0:
                    self._state = 'trailer'
                else:
                    self._remaining = size
                    self._state = 'data'
            elif state == 'data_end':
                if line:
                    raise BadRequest('a chunk is longer than its size')
                self._state = 'size'
            elif not line:  # trailer section ends with an empty line
                self.done = True
        rest = buffer[pos:]
        if self.done:
            return b''.join(out), rest
        self._buffer = rest
        return b''.join(out), b''
