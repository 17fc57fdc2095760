"""``wsgi.input`` and ``wsgi.file_wrapper`` for a session connection (PEP 3333)."""

import socket

from passenger_session_socket import RECV_SIZE

FILE_WRAPPER_BLOCK_SIZE = 65536


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
