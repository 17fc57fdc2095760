"""Why an ASGI preloader must not fork right now: an event loop running in it (in any
thread) holds a selector and tasks that a forked child would share or lose, so each child
would start with a broken loop. The app should start its loop work in its lifespan
startup, which runs in every child, not while it is imported."""

import asyncio
import gc
import threading
import weakref

# Loops that existed when the app was loaded: the preloader then freezes the heap
# (gc.freeze), after which gc.get_objects() no longer lists them.
_loops_at_load = weakref.WeakSet()


def remember_loops():
    """Called right after the app is imported, before the heap is frozen."""
    for obj in gc.get_objects():
        if isinstance(obj, asyncio.AbstractEventLoop):
            _loops_at_load.add(obj)


def running_event_loops():
    """Event loops that are running in this process (in any thread)."""
    loops = []
    if asyncio._get_running_loop() is not None:
        loops.append(asyncio._get_running_loop())
    for obj in list(_loops_at_load) + gc.get_objects():
        if isinstance(obj, asyncio.AbstractEventLoop) and obj not in loops:
            try:
                if obj.is_running():
                    loops.append(obj)
            except Exception:  # a half-built or foreign loop object
                continue
    return loops


def check_no_running_loop():
    """Raises RuntimeError naming the problem and the fix when a loop is running."""
    loops = running_event_loops()
    if not loops:
        return
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()]
    raise RuntimeError(
        'the app left %d asyncio event loop(s) running while it was imported%s; a forked process cannot use '
        'them. Start background work in the lifespan startup instead (it runs in every process), or set '
        'spawn_method to direct' % (len(loops), ' (threads: %s)' % ', '.join(threads) if threads else ''))
