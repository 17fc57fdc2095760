#!/usr/bin/env python3
"""Loads a WSGI application and serves it to the core over the session protocol.

Started by the spawner as ``python3 wsgi-loader.py``; it speaks the spawn handshake on
stdin/stdout (docs/protocols.md, section 1), loads ``application`` from the startup
file, and answers requests on a Unix socket (section 2) until told to stop.
Standard library only, Python 3.8+.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib', 'python'))

import importlib.machinery  # noqa: E402  (needs the path set above for our own modules)
import importlib.util  # noqa: E402
import signal  # noqa: E402
import threading  # noqa: E402

import passenger_handshake as handshake  # noqa: E402
from passenger_wsgi_server import WsgiSessionServer  # noqa: E402

STARTUP_MODULE_NAME = 'passenger_wsgi'
# Requests still in flight when we are asked to stop get this long to finish.
SHUTDOWN_GRACE_SECONDS = 4.0


class Terminated(BaseException):
    """Raised in the main thread by our SIGTERM handler."""


def enter_app_root(options):
    """chdir to the app and make its modules importable first; returns (app_root, startup_file)."""
    app_root = os.path.abspath(options['app_root'])
    os.chdir(app_root)
    sys.path.insert(0, app_root)
    return app_root, os.path.join(app_root, options['startup_file'])


def load_application(startup_file):
    """Runs the startup file as module ``passenger_wsgi`` and returns its ``application``."""
    # An explicit loader, so a startup file not ending in .py (app.wsgi) loads too.
    loader = importlib.machinery.SourceFileLoader(STARTUP_MODULE_NAME, startup_file)
    spec = importlib.util.spec_from_file_location(STARTUP_MODULE_NAME, startup_file, loader=loader)
    module = importlib.util.module_from_spec(spec)
    # Registered before running it, so the app can import itself (e.g. Django's ROOT_URLCONF).
    sys.modules[STARTUP_MODULE_NAME] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(STARTUP_MODULE_NAME, None)
        raise
    application = getattr(module, 'application', None)
    if application is None:
        raise AttributeError('%s does not define `application`, the WSGI callable to serve' % startup_file)
    if not callable(application):
        raise TypeError('`application` in %s is not callable (it is a %s)'
                        % (startup_file, type(application).__name__))
    return application


def set_process_title(app_root):
    try:
        from setproctitle import setproctitle
    except ImportError:
        return
    setproctitle('Passenger WsgiApp: %s' % app_root)


def raise_terminated(signum, frame):
    raise Terminated(signum)


def exit_like_signal(signum):
    """Dies from signum with its default action, so our parent sees how we ended."""
    flush_output()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)


def flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def app_threads_still_running():
    """Non-daemon threads the app started would keep a normal interpreter exit waiting forever."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def start(channel):
    """Handshake, load, listen. Any failure is reported as an ``!> Error`` block and ends the process."""
    startup_file = None
    try:
        options = channel.read_handshake()
        channel.detach_from_stdin()
        threads = handshake.parse_thread_count(options)
        app_root, startup_file = enter_app_root(options)
        application = load_application(startup_file)
        server = WsgiSessionServer(application, options['connect_password'], threads)
        server.listen(options['socket_dir'])
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from the app included
        handshake.report_error(exc, focus_file=startup_file, internal_files=(__file__,))
        flush_output()
        os._exit(1)
    set_process_title(app_root)
    return server


def serve_until_told_to_stop(server, channel):
    """Serves until the spawner's shutdown byte (or EOF); returns True if every request
    in flight finished within the grace period."""
    server.start()
    handshake.report_ready([('main', 'unix:' + server.socket_path, 'session', server.threads, server.SOCKET_FLAGS)])
    channel.wait_for_shutdown()
    return server.stop(SHUTDOWN_GRACE_SECONDS)


def main():
    handshake.make_output_prompt()
    channel = handshake.ControlChannel(0)
    handshake.greet()
    server = start(channel)
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        finished = serve_until_told_to_stop(server, channel)
    except Terminated:
        server.close()
        exit_like_signal(signal.SIGTERM)
    except KeyboardInterrupt:
        server.close()
        exit_like_signal(signal.SIGINT)
    else:
        if not finished or app_threads_still_running():
            flush_output()
            os._exit(0)  # a normal exit would wait for those threads forever
        # Otherwise return: a normal exit runs the app's atexit handlers (logging's final flush).


if __name__ == '__main__':
    main()
