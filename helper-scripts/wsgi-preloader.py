#!/usr/bin/env python3
"""Loads a WSGI application once and forks ready app processes from it (spawn_method smart).

Started by the spawner like wsgi-loader.py, with the same handshake on stdin/stdout
(docs/protocols.md section 1). Instead of an app socket it reports a command socket on
which each ``spawn`` command forks a child (lib/python/passenger_preloader.py), which is
from then on exactly a loaded wsgi-loader. Standard library only.
"""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib', 'python'))

from passenger_loader_process import fail_spawn, serve_until_stopped  # noqa: E402
from passenger_preloader import run_preloader  # noqa: E402


def _import_loader():
    """wsgi-loader.py's loading and serving, reused as they are (its name has a dash)."""
    spec = importlib.util.spec_from_file_location('passenger_wsgi_loader', os.path.join(HERE, 'wsgi-loader.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


loader = _import_loader()
INTERNAL_FILES = (__file__, loader.__file__)


def serve_child(application, channel, options):
    try:
        server = loader.make_server(application, options)
    except BaseException as exc:
        fail_spawn(exc, internal_files=INTERNAL_FILES)
    serve_until_stopped(lambda: loader.serve(server, channel), server.close, forked=True)


if __name__ == '__main__':
    run_preloader('wsgi', lambda options, startup_file: loader.load_application(os.path.abspath(options['app_root']), startup_file),
                  serve_child, INTERNAL_FILES)
