"""The ASGI ``lifespan`` scope: startup before the process reports ready, shutdown when
it stops. An app that raises before it reads the first event does not speak lifespan
(Django's ASGI handler, for one) and is served without it; a failure after it read
``lifespan.startup`` is a failed startup, reported as the spawn's error."""

import asyncio
import traceback

ASGI_VERSION = {'version': '3.0', 'spec_version': '2.3'}


class LifespanStartupFailed(Exception):
    """The app's startup failed; the message is what it said, detail its traceback."""

    def __init__(self, message, detail):
        super().__init__(message)
        self.detail = detail


class Lifespan:
    def __init__(self, app, log):
        self._app = app
        self._log = log
        self.state = {}
        self.supported = True
        self._events = asyncio.Queue()
        self._answers = asyncio.Queue()
        self._read_first = False
        self._task = None

    async def _receive(self):
        self._read_first = True
        return await self._events.get()

    async def _send(self, message):
        await self._answers.put(message)

    async def _run(self):
        scope = {'type': 'lifespan', 'asgi': ASGI_VERSION, 'state': self.state}
        try:
            await self._app(scope, self._receive, self._send)
        except BaseException as error:  # noqa: B902 -- anything the app raises ends its lifespan
            if not self._read_first:
                self.supported = False
                self._log('the app does not support the lifespan protocol (%s: %s); serving it without'
                          % (type(error).__name__, error))
            await self._answers.put({'type': '_raised', 'error': error,
                                     'traceback': traceback.format_exc()})
        else:
            await self._answers.put({'type': '_returned'})

    async def startup(self):
        """Runs the app's startup; LifespanStartupFailed when it fails."""
        self._task = asyncio.ensure_future(self._run())
        await self._events.put({'type': 'lifespan.startup'})
        answer = await self._answers.get()
        kind = answer['type']
        if kind == 'lifespan.startup.complete':
            return
        if kind == 'lifespan.startup.failed':
            message = answer.get('message') or ''
            detail = message
            if 'Traceback (most recent call last)' not in message:
                raised = await self._next_raised(1.0)
                if raised and raised['type'] == '_raised':
                    detail = raised['traceback']
            summary = message.strip().splitlines()[-1] if message.strip() else 'lifespan.startup.failed'
            raise LifespanStartupFailed('the app\'s lifespan startup failed: %s' % summary, detail)
        if kind == '_raised':
            if not self.supported:
                return
            error = answer['error']
            raise LifespanStartupFailed('the app\'s lifespan startup failed: %s: %s'
                                        % (type(error).__name__, error), answer['traceback'])
        if kind == '_returned':
            self.supported = False  # returned without answering: nothing to start or stop
            return
        raise LifespanStartupFailed('the app sent %r during lifespan startup' % kind, '')

    async def _next_raised(self, timeout):
        try:
            return await asyncio.wait_for(self._answers.get(), timeout)
        except asyncio.TimeoutError:
            return None

    async def shutdown(self, timeout):
        """Runs the app's shutdown for at most timeout seconds; logs, never raises."""
        if not self.supported or self._task is None or self._task.done():
            return
        await self._events.put({'type': 'lifespan.shutdown'})
        try:
            answer = await asyncio.wait_for(self._answers.get(), timeout)
        except asyncio.TimeoutError:
            self._log('the app\'s lifespan shutdown did not finish within %g seconds' % timeout)
            self._task.cancel()
            return
        if answer['type'] == 'lifespan.shutdown.failed':
            self._log('the app\'s lifespan shutdown failed: %s' % answer.get('message', ''))
        elif answer['type'] == '_raised':
            self._log('the app\'s lifespan shutdown raised:\n%s' % answer['traceback'].rstrip())
