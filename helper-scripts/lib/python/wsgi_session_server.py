"""Serves a WSGI application (PEP 3333) over the session protocol (docs/protocols.md,
section 2) with a fixed number of worker threads, one connection per thread at a time."""

import select
import socket
import sys
import threading
import time
import traceback

from passenger_session_socket import (
    DRAIN_LIMIT, DRAIN_TIMEOUT_SECONDS, RECV_SIZE, BadHead, ClientDisconnected, content_length_of, decode_path,
    head_length, is_https, listen_unix, make_log, parse_head, raw_path_of, remove_socket_file,
)
from wsgi_input import FileWrapper, RequestBody
from wsgi_response import Response

log = make_log('wsgi-loader')


def _first_head_bytes(conn):
    """The first bytes of a request head: poll() until they are there, then recv(). Never a
    blocking recv(): the core's read of the response just written frees its bytes, and the kernel
    then wakes every thread blocked in recv() on our end of the socket (a Unix socket has one wait
    queue for readers and writers, and only poll and epoll waiters are woken by the events they
    asked for). That wake-up found nothing to read and cost the core a cross-CPU wake-up per
    request. No recv() is tried first: the core sends the next head only after reading the last
    response, so it is seldom there yet."""
    poller = select.poll()
    poller.register(conn, select.POLLIN)
    poller.poll()
    return conn.recv(RECV_SIZE)


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
        # Kept-alive connections whose worker waits for the next head: stop() shuts them down, which
        # ends that wait (see _first_head_bytes for how it waits).
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
        self._listener, self.socket_path = listen_unix(socket_dir, 'wsgi')
        return self.socket_path

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
        remove_socket_file(self.socket_path)
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
        data = _first_head_bytes(conn)
        while len(data) < 4:
            more = conn.recv(RECV_SIZE)
            if not more:
                if data:
                    log('the connection closed in the middle of a request head')
                return None  # also how our own wake-up connections look
            data += more
        end = 4 + head_length(data)
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

    def _read_request(self, conn):
        """Returns (environ, wsgi.input, keep_alive) for the request on conn, or None to close it unanswered."""
        try:
            received = self._read_head(conn)
            if received is None:
                return None
            head, body_start = received
            variables, keep_alive = parse_head(head, self._password)
        except BadHead as reason:
            log(str(reason))
            return None
        environ = self._base_environ.copy()
        environ.update(variables)
        environ['PATH_INFO'] = decode_path(raw_path_of(environ))
        if is_https(environ):
            environ['wsgi.url_scheme'] = 'https'
        body = RequestBody(conn, body_start, content_length_of(environ, keep_alive))
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
