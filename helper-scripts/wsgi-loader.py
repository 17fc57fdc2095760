#!/usr/bin/env python3
"""Loads a WSGI application and serves it to the core over the session protocol.

Started by the spawner as ``python3 wsgi-loader.py``; it speaks the spawn handshake on
stdin/stdout (docs/protocols.md, section 1), loads ``application`` from the startup
file, and answers requests on a Unix socket (section 2) with ``threads`` worker threads
until told to stop. The shared parts live in lib/python/passenger_*.py. Standard
library only, Python 3.8+.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib', 'python'))

import passenger_handshake as handshake  # noqa: E402  (needs the path set above)
from passenger_app_callable import find_callable  # noqa: E402
from passenger_loader_process import (  # noqa: E402
    enter_app_root, fail_spawn, import_startup_file, run_startup_file, serve_until_stopped, set_process_title,
    start_control_channel,
)
from wsgi_session_server import WsgiSessionServer  # noqa: E402

STARTUP_MODULE_NAME = 'passenger_wsgi'
# Requests still in flight when we are asked to stop get this long to finish.
SHUTDOWN_GRACE_SECONDS = 4.0


def load_application(app_root, startup_file):
    """Runs passenger_wsgi.py (or any file the app names) as module ``passenger_wsgi`` and
    returns its ``application``; a file found by zero-config detection (a Django project's
    wsgi.py, a Flask app.py) is imported under its own name and may call it ``app``."""
    if os.path.basename(startup_file) == 'passenger_wsgi.py' or not startup_file.endswith('.py'):
        module = run_startup_file(startup_file, STARTUP_MODULE_NAME)
        return find_callable(module, startup_file, ('application',), 'WSGI')
    module = import_startup_file(app_root, startup_file, STARTUP_MODULE_NAME)
    return find_callable(module, startup_file, ('application', 'app'), 'WSGI')


def make_server(application, options):
    server = WsgiSessionServer(application, options['connect_password'], handshake.parse_thread_count(options))
    server.listen(options['socket_dir'])
    return server


def serve(server, channel):
    """Serves until the spawner's shutdown byte (or EOF); returns True if every request
    in flight finished within the grace period."""
    server.start()
    handshake.report_ready([('main', 'unix:' + server.socket_path, 'session', server.threads, server.SOCKET_FLAGS)])
    channel.wait_for_shutdown()
    return server.stop(SHUTDOWN_GRACE_SECONDS)


def main():
    channel = start_control_channel()
    startup_file = None
    try:
        options = channel.read_handshake()
        channel.detach_from_stdin()
        app_root, startup_file = enter_app_root(options)
        server = make_server(load_application(app_root, startup_file), options)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from the app included
        fail_spawn(exc, focus_file=startup_file, internal_files=(__file__,))
    set_process_title('Passenger WsgiApp: %s' % app_root)
    serve_until_stopped(lambda: serve(server, channel), server.close)


if __name__ == '__main__':
    main()
