"""The ``!> Error`` block a Python loader prints when it cannot start the app
(docs/protocols.md, section 1): the exception's class and first line as the summary, the
interpreter that ran it (the error page's hints name it), and the part of the traceback
that matters as the detail."""

import os
import sys
import traceback

from passenger_handshake import write_control

# Frames in our own loader code (helper-scripts/) are never the part of a traceback that matters.
HELPER_SCRIPTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep


def qualified_class_name(exc):
    cls = type(exc)
    if cls.__module__ in ('builtins', '__main__'):
        return cls.__qualname__
    return '%s.%s' % (cls.__module__, cls.__qualname__)


def error_summary(exc):
    if isinstance(exc, SystemExit):
        return 'the application exited while loading (SystemExit: %r)' % (exc.code,)
    try:
        lines = str(exc).strip().splitlines()
    except Exception:  # an exception whose __str__ fails still deserves a report
        lines = []
    return lines[0] if lines else qualified_class_name(exc)


def _first_frame(tb, wanted):
    while tb is not None and not wanted(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return tb


def format_error_detail(exc, focus_file=None, internal_files=()):
    """The traceback from the first frame in focus_file (the app's startup file), else
    from the first frame that is neither ours nor importlib's: those would bury the part
    that matters. With no such frame (a SyntaxError, say), just the exception itself."""
    tb = exc.__traceback__
    start = _first_frame(tb, lambda name: name == focus_file) if focus_file else None
    if start is None:
        start = _first_frame(tb, lambda name: name not in internal_files
                             and not name.startswith(HELPER_SCRIPTS_DIR)
                             and not name.startswith('<frozen importlib'))
    if start is None:
        return ''.join(traceback.format_exception_only(type(exc), exc))
    return ''.join(traceback.format_exception(type(exc), exc, start))


def report_error(exc, focus_file=None, internal_files=()):
    """Prints the ``!> Error`` block followed by the traceback as the error's detail."""
    version = '%d.%d.%d' % sys.version_info[:3]
    lines = [
        'Error',
        'error_class: %s' % qualified_class_name(exc),
        'summary: %s' % error_summary(exc),
        'html: false',
        'interpreter: %s' % (sys.executable or 'python'),
        'python_version: %s' % version,
        '',
    ]
    write_control(lines, trailer=format_error_detail(exc, focus_file, internal_files))


def report_failure(error_class, summary, detail):
    """An ``!> Error`` block for a failure that is not a Python exception of ours (an ASGI
    app's failed lifespan startup, reported with the app's own traceback)."""
    version = '%d.%d.%d' % sys.version_info[:3]
    write_control(['Error', 'error_class: %s' % error_class, 'summary: %s' % summary, 'html: false',
                   'interpreter: %s' % (sys.executable or 'python'), 'python_version: %s' % version, ''],
                  trailer=detail)
