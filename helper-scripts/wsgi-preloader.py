#!/usr/bin/env python3
"""Loads a WSGI application once and forks ready app processes from it (spawn_method smart).

Started by the spawner like wsgi-loader.py, with the same handshake on stdin/stdout
(docs/protocols.md section 1). Instead of an app socket it reports a command socket on
which each ``spawn`` command forks a child (docs/protocols.md, "Preloader"). A child
makes the command connection its stdin and stdout and from then on is exactly a loaded
wsgi-loader. Code an app registers with ``os.register_at_fork(after_in_child=...)``
runs in every child; the ``random`` module is reseeded in each. Standard library only.
"""

import atexit
import gc
import importlib.util
import os
import random
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, 'lib', 'python'))

import passenger_handshake as handshake  # noqa: E402
from passenger_wsgi_server import WsgiSessionServer  # noqa: E402
from preloader_server import PreloaderServer  # noqa: E402


def _import_loader():
    """The loader's functions (loading, serving, shutdown), reused as they are."""
    spec = importlib.util.spec_from_file_location('passenger_wsgi_loader', os.path.join(HERE, 'wsgi-loader.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


loader = _import_loader()


def load(channel):
    """Handshake and load; any failure is an ``!> Error`` block and the end of the process."""
    startup_file = None
    try:
        options = channel.read_handshake()
        channel.detach_from_stdin()
        app_root, startup_file = loader.enter_app_root(options)
        application = loader.load_application(startup_file)
        server = PreloaderServer(options['socket_dir'], options['connect_password'])
    except BaseException as exc:
        handshake.report_error(exc, focus_file=startup_file, internal_files=(__file__, loader.__file__))
        loader.flush_output()
        os._exit(1)
    # Objects from loading would otherwise be touched by every child's garbage collector,
    # copying their pages: freeze them into a generation the collector skips.
    gc.collect()
    if hasattr(gc, 'freeze'):
        gc.freeze()
    return app_root, application, server


def become_app_process(conn, application):
    """Runs in a forked child; never returns."""
    os.dup2(conn.fileno(), 0)
    os.dup2(conn.fileno(), 1)
    conn.close()
    os.write(1, ('!> pid: %d\n' % os.getpid()).encode())  # first, so the spawner can watch us
    os.setsid()  # own session and process group: the pool stops us with kill(-pid)
    random.seed()  # CPython reseeds after fork too (register_at_fork); be explicit
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    channel = handshake.ControlChannel(0)
    handshake.greet()
    try:
        options = channel.read_handshake()
        channel.detach_from_stdin()
        server = WsgiSessionServer(application, options['connect_password'], handshake.parse_thread_count(options))
        server.listen(options['socket_dir'])
    except BaseException as exc:
        handshake.report_error(exc, internal_files=(__file__, loader.__file__))
        loader.flush_output()
        os._exit(1)
    signal.signal(signal.SIGTERM, loader.raise_terminated)
    try:
        finished = loader.serve_until_told_to_stop(server, channel)
    except loader.Terminated:
        server.close()
        loader.exit_like_signal(signal.SIGTERM)
    except KeyboardInterrupt:
        server.close()
        loader.exit_like_signal(signal.SIGINT)
    # os._exit, not a return into the preloader's loop; atexit handlers first, as in the loader.
    if finished and not loader.app_threads_still_running():
        atexit._run_exitfuncs()
    loader.flush_output()
    os._exit(0)


def main():
    handshake.make_output_prompt()
    channel = handshake.ControlChannel(0)
    handshake.greet()
    app_root, application, server = load(channel)
    loader.set_process_title(app_root)
    handshake.report_ready([('preloader', 'unix:' + server.socket_path, 'preloader', 0)])
    signal.signal(signal.SIGTERM, loader.raise_terminated)
    try:
        # The control pipe's descriptor: its byte or EOF stops the preloader.
        server.run(channel._fd, lambda conn: become_app_process(conn, application))
    except loader.Terminated:
        loader.exit_like_signal(signal.SIGTERM)  # run's finally removed the socket file


if __name__ == '__main__':
    main()
