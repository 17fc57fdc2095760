"""An ASGI app process from its loaded app to its exit, shared by asgi-loader.py and the
children of asgi-preloader.py: an event loop (uvloop's when importable), lifespan
startup before ``!> Ready``, serving until the spawner's shutdown byte, then the
requests in flight and lifespan shutdown, each bounded in time."""

import asyncio
import os
import signal

import passenger_handshake as handshake
from asgi_lifespan import Lifespan, LifespanStartupFailed
from asgi_server import AsgiServer
from passenger_app_callable import find_callable
from passenger_error_report import report_failure
from passenger_loader_process import (
    app_threads_still_running, exit_like_signal, fail_spawn, flush_output, import_startup_file,
)
from passenger_session_socket import make_log

STARTUP_MODULE_NAME = 'passenger_asgi'
CALLABLE_NAMES = ('application', 'app')
# Requests still in flight when we are asked to stop get this long to finish.
SHUTDOWN_GRACE_SECONDS = 4.0
LIFESPAN_SHUTDOWN_TIMEOUT_SECONDS = 4.0

log = make_log('asgi-loader')


def load_application(app_root, startup_file):
    """Imports the startup file and returns its ``application`` (or ``app``) ASGI callable."""
    module = import_startup_file(app_root, startup_file, STARTUP_MODULE_NAME)
    return find_callable(module, startup_file, CALLABLE_NAMES, 'ASGI')


def new_event_loop():
    """uvloop's loop when the interpreter has it, else asyncio's; returns (loop, name)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop(), 'asyncio'
    return uvloop.new_event_loop(), 'uvloop'


class AppProcess:
    def __init__(self, application, options, internal_files):
        self.application = application
        self.options = options
        self.internal_files = internal_files
        self.loop, self.loop_name = new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.server = None
        self.lifespan = Lifespan(application, log)
        self._shutdown = None

    def run(self, channel):
        """Never returns."""
        loop = self.loop
        try:
            loop.run_until_complete(self._start())
        except LifespanStartupFailed as failure:
            report_failure('LifespanStartupFailed', str(failure), failure.detail)
            flush_output()
            os._exit(1)
        except BaseException as exc:
            fail_spawn(exc, internal_files=self.internal_files)
        loop.add_signal_handler(signal.SIGTERM, self._terminate)
        handshake.report_ready([('main', 'unix:' + self.server.socket_path, 'http_session', 0)])
        self._shutdown = loop.create_future()
        self._watch_control_channel(channel)
        finished = loop.run_until_complete(self._serve_until_stopped())
        if finished and not app_threads_still_running():
            import atexit
            atexit._run_exitfuncs()
        flush_output()
        os._exit(0)

    async def _start(self):
        await self.lifespan.startup()
        self.server = AsgiServer(self.application, self.loop, log, self.options.get('base_uri', ''),
                                 self.lifespan.state)
        await self.server.listen(self.options['socket_dir'])

    def _watch_control_channel(self, channel):
        if channel._pending:
            self._shutdown.set_result(None)
            return

        def readable():
            try:
                os.read(channel._fd, 1)
            except (BlockingIOError, InterruptedError):
                return
            self.loop.remove_reader(channel._fd)
            if not self._shutdown.done():
                self._shutdown.set_result(None)
        self.loop.add_reader(channel._fd, readable)

    async def _serve_until_stopped(self):
        await self._shutdown
        finished = await self.server.stop(SHUTDOWN_GRACE_SECONDS)
        await self.lifespan.shutdown(LIFESPAN_SHUTDOWN_TIMEOUT_SECONDS)
        return finished

    def _terminate(self):
        if self.server is not None:
            self.server.close()
        exit_like_signal(signal.SIGTERM)
