"""The life of a Python app process, the same for every loader and for a preloader's
children: entering the app root, running the startup file, the process title, and how
the process ends (the spawner's shutdown byte, SIGTERM, or a failure while loading)."""

import atexit
import importlib
import importlib.machinery
import importlib.util
import os
import signal
import sys
import threading

import passenger_handshake as handshake
from passenger_error_report import report_error


class Terminated(BaseException):
    """Raised in the main thread by our SIGTERM handler."""


def enter_app_root(options):
    """chdir to the app and make its modules importable first; returns (app_root, startup_file)."""
    app_root = os.path.abspath(options['app_root'])
    os.chdir(app_root)
    sys.path.insert(0, app_root)
    return app_root, os.path.join(app_root, options['startup_file'])


def run_startup_file(startup_file, module_name):
    """Runs the startup file as module ``module_name`` and returns the module."""
    # An explicit loader, so a startup file not ending in .py (app.wsgi) loads too.
    loader = importlib.machinery.SourceFileLoader(module_name, startup_file)
    spec = importlib.util.spec_from_file_location(module_name, startup_file, loader=loader)
    module = importlib.util.module_from_spec(spec)
    # Registered before running it, so the app can import itself (e.g. Django's ROOT_URLCONF).
    sys.modules[module_name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _module_name(app_root, startup_file):
    """main.py -> 'main', mysite/wsgi.py -> 'mysite.wsgi' when importable as such, else None."""
    rel = os.path.relpath(startup_file, app_root)
    if rel.startswith('..') or not rel.endswith('.py'):
        return None
    parts = rel[:-3].split(os.sep)
    if not all(part.isidentifier() for part in parts):
        return None
    for depth in range(1, len(parts)):
        if not os.path.isfile(os.path.join(app_root, *parts[:depth], '__init__.py')):
            return None
    return '.'.join(parts)


def import_startup_file(app_root, startup_file, fallback_name):
    """Imports a startup file under its own module name when it has one (so the app importing
    itself, as Django's settings do, gets the same module), else runs it as fallback_name."""
    name = _module_name(app_root, startup_file)
    if name is None:
        return run_startup_file(startup_file, fallback_name)
    return importlib.import_module(name)


def set_process_title(title):
    try:
        from setproctitle import setproctitle
    except ImportError:
        return
    setproctitle(title)


def flush_output():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def fail_spawn(exc, focus_file=None, internal_files=()):
    """Reports exc as the spawn's error and ends the process without running the app's atexit hooks."""
    report_error(exc, focus_file=focus_file, internal_files=internal_files)
    flush_output()
    os._exit(1)


def raise_terminated(signum, frame):
    raise Terminated(signum)


def exit_like_signal(signum):
    """Dies from signum with its default action, so our parent sees how we ended."""
    flush_output()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)


def app_threads_still_running():
    """Non-daemon threads the app started would keep a normal interpreter exit waiting forever."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def serve_until_stopped(serve, close, forked=False):
    """Runs serve() (which returns True when every request finished in time) with SIGTERM
    and SIGINT ending it through close(), then ends the process the way its parent expects.

    A loader returns, so that a normal exit runs the app's atexit handlers (logging's final
    flush); a forked child never returns into the preloader's loop, so it runs them itself.
    Either way an unfinished request or an app thread means os._exit: a normal exit would
    wait for them forever."""
    signal.signal(signal.SIGTERM, raise_terminated)
    try:
        finished = serve()
    except Terminated:
        close()
        exit_like_signal(signal.SIGTERM)
    except KeyboardInterrupt:
        close()
        exit_like_signal(signal.SIGINT)
    clean = finished and not app_threads_still_running()
    if forked:
        if clean:
            atexit._run_exitfuncs()
    elif clean:
        return
    flush_output()
    os._exit(0)


def start_control_channel():
    """Line-buffered output, the greeting, and the channel to read the spawner's handshake from."""
    handshake.make_output_prompt()
    channel = handshake.ControlChannel(0)
    handshake.greet()
    return channel
