"""Finding the app's callable in its startup module, and telling a WSGI callable from an
ASGI one without calling it: a WSGI app given to the ASGI loader, or the reverse, fails
at load time with the fix instead of a bare 500 on every request."""

import inspect

ASGI_FIX = ('set app_type to asgi (`passenger run --app-type asgi`, or "app_type": "asgi" in '
            'Passengerfile.json/.passengerrc), which serves it with helper-scripts/asgi-loader.py')
WSGI_FIX = ('set app_type to wsgi (or remove app_type), which serves it with helper-scripts/wsgi-loader.py; '
            'or wrap it with an ASGI adapter such as asgiref.wsgi.WsgiToAsgi')


class WrongInterface(TypeError):
    """The startup file defines a callable for the other Python web interface."""


def _entry_point(app):
    """The function that runs per request: the app itself, or its __call__."""
    if inspect.isfunction(app) or inspect.ismethod(app):
        return app
    call = getattr(type(app), '__call__', None)
    if call is None:
        return app
    return getattr(app, '__call__', call)


def _positional_parameters(func):
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = list(signature.parameters.values())
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in kinds)


def looks_like_asgi(app):
    """An ``async`` callable, or one taking exactly (scope, receive, send)."""
    entry = _entry_point(app)
    if inspect.iscoroutinefunction(entry) or inspect.iscoroutinefunction(app):
        return True
    return _positional_parameters(entry) == 3


def looks_like_wsgi(app):
    """A plain (not async) callable taking exactly (environ, start_response)."""
    entry = _entry_point(app)
    if inspect.iscoroutinefunction(entry) or inspect.iscoroutinefunction(app):
        return False
    return _positional_parameters(entry) == 2


def find_callable(module, startup_file, names, interface):
    """The first of names the module defines; AttributeError/TypeError naming the file when
    none does or it is not callable. interface is 'WSGI' or 'ASGI'."""
    for name in names:
        app = getattr(module, name, None)
        if app is not None:
            break
    else:
        wanted = ' or '.join('`%s`' % name for name in names)
        raise AttributeError('%s does not define %s, the %s callable to serve' % (startup_file, wanted, interface))
    if not callable(app):
        raise TypeError('`%s` in %s is not callable (it is a %s)' % (name, startup_file, type(app).__name__))
    if interface == 'WSGI' and looks_like_asgi(app):
        raise WrongInterface('`%s` in %s is an ASGI app (%s), not a WSGI one: %s'
                             % (name, startup_file, _describe(app), ASGI_FIX))
    if interface == 'ASGI' and looks_like_wsgi(app):
        raise WrongInterface('`%s` in %s is a WSGI app (%s), not an ASGI one: %s'
                             % (name, startup_file, _describe(app), WSGI_FIX))
    return app


def _describe(app):
    cls = app if inspect.isfunction(app) else type(app)
    return '%s.%s' % (cls.__module__, cls.__qualname__)
