// Python ASGI apps (FastAPI, Starlette, Django's ASGI handler, ...):
// passenger_asgi.py or asgi.py, or a FastAPI/Starlette layout found without
// one. Loaded by helper-scripts/asgi-loader.py (asgi-preloader.py for smart
// spawning) and served over http_session, WebSockets included. One process
// serves many requests at once; force_max_concurrent_requests_per_process
// caps that. The interpreter is the shared `python` option, else a
// virtualenv in the app root, else python3 (languages/python.ts).
import { definePlugin, Stage, type Plugin } from '../../core/index.ts';
import { choosePython, pythonHints, pythonOption, type PythonOptions } from '../languages/index.ts';
import { detectExplicit, detectLayouts, DISPLAY_NAMES, LOOKED_FOR, STARTUP_FILES } from '../languages/python-detect.ts';

const NAME = 'passenger:asgi';

export default function asgi(): Plugin {
  return definePlugin<PythonOptions>({
    name: NAME,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        name: 'asgi', processesPerCpu: 1, processMemoryMiB: 60, displayName: DISPLAY_NAMES.asgi, startupFiles: STARTUP_FILES.asgi, lookedFor: LOOKED_FOR.asgi,
        protocol: 'http_session', interpreterOption: 'python', hasPreloader: true,
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => r.add(pythonOption));
      kernel.hooks.detectAppType.tapPromise(NAME, detectExplicit('asgi'));
      kernel.hooks.detectAppType.tapPromise({ name: NAME, stage: Stage.late }, detectLayouts('asgi'));
      kernel.hooks.resolveLoader.for('asgi').tapPromise(NAME, async (app, method) => {
        const { python, reason } = await choosePython(app);
        const script = method === 'smart' ? 'asgi-preloader.py' : 'asgi-loader.py';
        return { command: python, args: [kernel.helperScript(script)], readiness: { kind: 'handshake' }, note: reason };
      });
      kernel.hooks.buildSpawnCommand.for('asgi').tap(NAME, (cmd) => {
        cmd.env.PYTHONUNBUFFERED = '1';
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.for('asgi').tapPromise(NAME, async (report, ctx) => {
        const withHints = await pythonHints(report, ctx, NAME);
        return (await import('../languages/python-other-interpreters.ts')).otherInterpreterHint(withHints, ctx, NAME);
      });
    },
  });
}
