#!/usr/bin/env python3
"""Loads an ASGI application (FastAPI, Starlette, Django's ASGI handler, ...) and serves it
to the core over http_session on a Unix socket.

Started by the spawner as ``python3 asgi-loader.py``; it speaks the spawn handshake on
stdin/stdout (docs/protocols.md, section 1), imports ``application`` (or ``app``) from the
startup file, runs the app's lifespan startup, and then reports ready. One process
serves many requests at once on one event loop. Standard library only (uvloop when the
interpreter has it), Python 3.8+.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lib', 'python'))

from asgi_app_process import AppProcess, load_application  # noqa: E402  (needs the path set above)
from passenger_loader_process import (  # noqa: E402
    enter_app_root, fail_spawn, set_process_title, start_control_channel,
)


def main():
    channel = start_control_channel()
    startup_file = None
    try:
        options = channel.read_handshake()
        channel.detach_from_stdin()
        app_root, startup_file = enter_app_root(options)
        application = load_application(app_root, startup_file)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt from the app included
        fail_spawn(exc, focus_file=startup_file, internal_files=(__file__,))
    set_process_title('Passenger AsgiApp: %s' % app_root)
    AppProcess(application, options, (__file__,)).run(channel)


if __name__ == '__main__':
    main()
