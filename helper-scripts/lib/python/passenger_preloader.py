"""The part of a preloader (spawn_method smart) that is the same for every Python app
type: load once, then fork a child per spawn command (docs/protocols.md, "Preloader").

A child makes the command connection its stdin and stdout and from then on is exactly a
loaded app process, with its own handshake. Code an app registers with
``os.register_at_fork(after_in_child=...)`` runs in every child; the ``random`` module is
reseeded in each.
"""

import gc
import os
import random
import signal

import passenger_handshake as handshake
from passenger_loader_process import (
    Terminated, enter_app_root, exit_like_signal, fail_spawn, raise_terminated, set_process_title,
    start_control_channel,
)
from preloader_server import PreloaderServer


def freeze_loaded_objects():
    """Objects from loading would otherwise be touched by every child's garbage collector,
    copying their pages: freeze them into a generation the collector skips."""
    gc.collect()
    if hasattr(gc, 'freeze'):
        gc.freeze()


def become_app_process(conn, serve_child, internal_files):
    """Runs in a forked child; never returns. serve_child(channel, options) serves the app
    (and ends the process) once the child's own handshake is read."""
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
    except BaseException as exc:
        fail_spawn(exc, internal_files=internal_files)
    serve_child(channel, options)
    os._exit(70)  # serve_child must not return


def run_preloader(kind, load, serve_child, internal_files, before_fork=None):
    """The preloader's main: handshake, load(options, startup_file) -> app, then serve spawn
    commands until the spawner's shutdown byte. serve_child(app, channel, options) runs in each
    child. before_fork() may raise to refuse the fork (the error goes to the log)."""
    channel = start_control_channel()
    startup_file = None
    try:
        options = channel.read_handshake()
        channel.detach_from_stdin()
        app_root, startup_file = enter_app_root(options)
        app = load(options, startup_file)
        server = PreloaderServer(options['socket_dir'], options['connect_password'], kind, before_fork)
    except BaseException as exc:
        fail_spawn(exc, focus_file=startup_file, internal_files=internal_files)
    freeze_loaded_objects()
    set_process_title('Passenger %s preloader: %s' % (kind.upper(), app_root))
    handshake.report_ready([('preloader', 'unix:' + server.socket_path, 'preloader', 0)])
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        # The control pipe's descriptor: its byte or EOF stops the preloader.
        server.run(channel._fd, lambda conn: become_app_process(
            conn, lambda child_channel, child_options: serve_child(app, child_channel, child_options), internal_files))
    except Terminated:
        exit_like_signal(signal.SIGTERM)  # run's finally removed the socket file
