#!/usr/bin/env python3
"""Imports an ASGI application once and forks ready app processes from it (spawn_method
smart).

Started by the spawner like asgi-loader.py, with the same handshake on stdin/stdout
(docs/protocols.md section 1). It reports a command socket on which each ``spawn``
command forks a child (lib/python/passenger_preloader.py); the child creates its own
event loop, runs the lifespan startup and is from then on exactly a loaded asgi-loader.
No event loop runs in the preloader itself, and a fork is refused while the app keeps
one running (lib/python/asgi_fork_guard.py). Standard library only.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib', 'python'))

from asgi_app_process import AppProcess, load_application  # noqa: E402  (needs the path set above)
from asgi_fork_guard import check_no_running_loop, remember_loops  # noqa: E402
from passenger_preloader import run_preloader  # noqa: E402

INTERNAL_FILES = (__file__,)


def load(options, startup_file):
    application = load_application(os.path.abspath(options['app_root']), startup_file)
    remember_loops()
    return application


def serve_child(application, channel, options):
    AppProcess(application, options, INTERNAL_FILES).run(channel)


if __name__ == '__main__':
    run_preloader('asgi', load, serve_child, INTERNAL_FILES, before_fork=check_no_running_loop)
