"""Serves an ASGI application to the core over ``http_session`` (docs/protocols.md,
section 4): HTTP/1.1 on a Unix socket, kept-alive connections, one request at a time per
connection and as many connections at once as the core opens. Each request or WebSocket
runs as its own task on one event loop; docs/architecture.md says why http_session."""

import asyncio
import socket
import traceback
from urllib.parse import unquote

from asgi_http_cycle import HttpCycle
from asgi_http_parser import MAX_HEAD_SIZE, BadRequest, ChunkedDecoder, parse_head
from asgi_lifespan import ASGI_VERSION
from asgi_websocket import WebSocketSession
from passenger_session_socket import listen_unix, remove_socket_file

# Body bytes buffered for an app that does not read them yet before we stop reading the socket.
BODY_HIGH_WATER = 1 << 20
SEND_BUFFER = 1 << 20
_HTTP_EXTENSIONS = {}
_WEBSOCKET_EXTENSIONS = {'websocket.http.response': {}}


class Connection(asyncio.Protocol):
    __slots__ = ('server', 'loop', 'transport', '_buffer', 'cycle', 'ws', '_body_left', '_chunks',
                 '_paused_reading', '_drain', '_closed', '_task', '_describe')

    def __init__(self, server):
        self.server = server
        self.loop = server.loop
        self.transport = None
        self._buffer = b''
        self.cycle = None
        self.ws = None
        self._body_left = 0
        self._chunks = None
        self._paused_reading = False
        self._drain = None
        self._closed = False
        self._task = None
        self._describe = ''

    # -- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info('socket')
        if sock is not None:
            try:
                # Room for a 1 MiB response in the kernel, so asyncio rarely queues (and copies) the rest
                # itself: loader CPU per 1 MiB GET measured 1.1-1.9 ms at the default 208 KiB, 0.3-0.5 ms with
                # this. The kernel caps it at net.core.wmem_max without an error.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            except OSError:
                pass
        self.server.connections.add(self)

    def data_received(self, data):
        if self.ws is not None:
            self.ws.feed(data)
        elif self.cycle is not None and (self._body_left or self._chunks is not None):
            self._feed_body(data)
        else:
            self._buffer += data
            if self.cycle is None:
                self._next_request()

    def eof_received(self):
        return False  # close our side too

    def connection_lost(self, exc):
        self._closed = True
        self.server.connections.discard(self)
        if self.cycle is not None:
            self.cycle.lose_connection()
        if self.ws is not None:
            self.ws.lose_connection()
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    def pause_writing(self):
        if self._drain is None or self._drain.done():
            self._drain = self.loop.create_future()

    def resume_writing(self):
        drain = self._drain
        if drain is not None and not drain.done():
            drain.set_result(None)

    # -- used by cycles and WebSocket sessions -----------------------------------------

    def write(self, data):
        if not self._closed:
            self.transport.write(data)

    async def drain(self):
        drain = self._drain
        if drain is not None and not drain.done():
            await drain

    def close_transport(self):
        if not self._closed:
            self._closed = True
            self.transport.close()

    def call_later(self, delay, callback):
        self.loop.call_later(delay, callback)

    def log(self, message):
        self.server.log(message)

    def describe(self):
        return self._describe

    def want_body(self):
        if self._paused_reading:
            self._paused_reading = False
            self.transport.resume_reading()

    def body_consumed(self):
        self.want_body()

    # -- requests ----------------------------------------------------------------------

    def _next_request(self):
        buffer = self._buffer
        end = buffer.find(b'\r\n\r\n')
        if end < 0:
            if len(buffer) > MAX_HEAD_SIZE:
                self.log('closed a connection whose request head is over %d bytes' % MAX_HEAD_SIZE)
                self.close_transport()
            return
        try:
            head = parse_head(buffer[:end])
        except BadRequest as error:
            self.log('closed a connection: %s' % error)
            self.close_transport()
            return
        self._buffer = b''
        rest = buffer[end + 4:]
        self._describe = '%s %s' % (head.method, head.target.decode('latin-1')[:200])
        if head.upgrade == b'websocket':
            self._start_websocket(head, rest)
        else:
            self._start_http(head, rest)

    def _scope(self, head, kind):
        target = head.target
        raw_path, _, query = target.partition(b'?')
        scheme = 'http'
        client = None
        host = None
        for name, value in head.headers:
            if name == b'x-forwarded-proto':
                scheme = 'https' if value == b'https' else 'http'
            elif name == b'x-forwarded-for':
                client = (value.rsplit(b',', 1)[-1].strip().decode('latin-1'), 0)
            elif name == b'host':
                host = value
        if kind == 'websocket':
            scheme = 'wss' if scheme == 'https' else 'ws'
        server = self.server
        scope = {
            'type': kind,
            'asgi': ASGI_VERSION,
            'http_version': head.http_version,
            'scheme': scheme,
            'path': unquote(raw_path.decode('latin-1')) if b'%' in raw_path else raw_path.decode('latin-1'),
            'raw_path': raw_path,
            'query_string': query,
            'root_path': server.root_path,
            'headers': head.headers,
            'client': client,
            'server': _server_of(host),
            'state': server.state.copy(),
            'extensions': _HTTP_EXTENSIONS,
        }
        if kind == 'http':
            scope['method'] = head.method
        return scope

    def _start_http(self, head, rest):
        has_body = head.chunked or head.content_length > 0
        cycle = HttpCycle(self, head.method == 'HEAD', head.keep_alive, has_body)
        self.cycle = cycle
        if head.chunked:
            self._chunks = ChunkedDecoder()
        else:
            self._chunks = None
            self._body_left = head.content_length
        if rest and has_body:
            self._feed_body(rest)
        elif rest:
            self._buffer = rest
        self._task = self.loop.create_task(self._run_http(self._scope(head, 'http'), cycle))

    def _feed_body(self, data):
        """Body bytes to the cycle (or dropped, once the app finished without reading them)."""
        cycle = self.cycle
        chunks = self._chunks
        if chunks is not None:
            body, rest = chunks.feed(data)
            done = chunks.done
        else:
            left = self._body_left
            body, rest = (data, b'') if len(data) <= left else (data[:left], data[left:])
            self._body_left = left - len(body)
            done = self._body_left == 0
        if done:
            self._chunks = None
            self._body_left = 0
            if rest:
                self._buffer += rest
        if cycle.complete or cycle.failed:
            if done:
                self._request_done(cycle)
            return
        cycle.feed_body(body, not done)
        if not done and cycle.body_buffered() > BODY_HIGH_WATER and not self._paused_reading:
            self._paused_reading = True
            self.transport.pause_reading()

    async def _run_http(self, scope, cycle):
        server = self.server
        server.in_flight += 1
        try:
            await server.app(scope, cycle.receive, cycle.send)
        except BaseException as error:  # noqa: B902
            if isinstance(error, asyncio.CancelledError) or not isinstance(error, Exception):
                cycle.fail()
                self.close_transport()
                raise
            self.log('error while handling %s:\n%s' % (self._describe, traceback.format_exc().rstrip()))
            cycle.fail()
        else:
            if not cycle.complete:
                self.log('the app returned without completing its response to %s' % self._describe)
                cycle.fail()
        finally:
            server.in_flight -= 1
            server.request_finished()
        if self._body_left or self._chunks is not None:
            # The app did not read its whole body: the rest is skipped before the next request.
            if cycle.failed or not cycle.keep_alive:
                self.close_transport()
            else:
                self.want_body()
            return
        self._request_done(cycle)

    def _request_done(self, cycle):
        self.cycle = None
        self._task = None
        if not cycle.finished_cleanly() or not cycle.keep_alive or self.server.stopping:
            self.close_transport()
        elif self._buffer and not self._closed:
            self._next_request()

    def _start_websocket(self, head, rest):
        key = next((value for name, value in head.headers if name == b'sec-websocket-key'), None)
        if key is None:
            self.write(b'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
            self.close_transport()
            return
        session = WebSocketSession(self, key)
        self.ws = session
        scope = self._scope(head, 'websocket')
        scope['extensions'] = _WEBSOCKET_EXTENSIONS
        protocols = next((value for name, value in head.headers if name == b'sec-websocket-protocol'), b'')
        scope['subprotocols'] = [p.strip().decode('latin-1') for p in protocols.split(b',') if p.strip()]
        if rest:
            session.feed(rest)
        self._task = self.loop.create_task(self._run_websocket(scope, session))

    async def _run_websocket(self, scope, session):
        server = self.server
        server.websockets.add(session)
        error = False
        try:
            await server.app(scope, session.receive, session.send)
        except Exception:
            error = True
            self.log('error in the WebSocket %s:\n%s' % (self._describe, traceback.format_exc().rstrip()))
        finally:
            server.websockets.discard(session)
            session.app_ended(error)
            server.request_finished()


def _server_of(host):
    if not host:
        return None
    name, _, port = host.decode('latin-1').rpartition(':')
    if not name or not port.isdigit():
        return (host.decode('latin-1'), None)
    return (name, int(port))


class AsgiServer:
    """The listening socket and every connection on it."""

    def __init__(self, app, loop, log, root_path='', state=None):
        self.app = app
        self.loop = loop
        self.log = log
        self.root_path = '' if root_path in ('', '/') else root_path.rstrip('/')
        self.state = state if state is not None else {}
        self.connections = set()
        self.websockets = set()
        self.in_flight = 0
        self.stopping = False
        self.socket_path = None
        self._server = None
        self._idle = None

    async def listen(self, socket_dir):
        listener, self.socket_path = listen_unix(socket_dir, 'asgi')
        self._server = await self.loop.create_unix_server(lambda: Connection(self), sock=listener)
        return self.socket_path

    def request_finished(self):
        idle = self._idle
        if idle is not None and not idle.done() and self.in_flight == 0 and not self.websockets:
            idle.set_result(None)

    async def stop(self, grace_seconds):
        """Stops accepting, lets requests in flight finish (bounded), says goodbye to
        WebSockets; returns True when everything finished in time."""
        self.stopping = True
        if self._server is not None:
            self._server.close()
        remove_socket_file(self.socket_path)
        for conn in list(self.connections):
            if conn.cycle is None and conn.ws is None:
                conn.close_transport()  # idle kept-alive connections
        for session in list(self.websockets):
            session.going_away()
        if self.in_flight or self.websockets:
            self._idle = self.loop.create_future()
            try:
                await asyncio.wait_for(self._idle, grace_seconds)
            except asyncio.TimeoutError:
                return False
        return True

    def close(self):
        """Removes the socket file at once (SIGTERM)."""
        remove_socket_file(self.socket_path)
