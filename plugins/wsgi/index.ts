// Python WSGI apps (passenger_wsgi.py, or a Django or Flask layout found
// without one), loaded by helper-scripts/wsgi-loader.py and served over the
// session protocol. The interpreter is the shared `python` option, else a
// virtualenv in the app root, else python3 (languages/python.ts).
import { definePlugin, Stage, type Plugin } from '../../core/index.ts';
import { choosePython, pythonOption, type PythonOptions } from '../languages/index.ts';
import { detectExplicit, detectLayouts, DISPLAY_NAMES, LOOKED_FOR, STARTUP_FILES } from '../languages/python-detect.ts';

const NAME = 'passenger:wsgi';
const WSGI = { name: 'wsgi', startupFiles: STARTUP_FILES.wsgi, lookedFor: LOOKED_FOR.wsgi };

export default function wsgi(): Plugin {
  return definePlugin<PythonOptions>({
    name: NAME,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        ...WSGI, processesPerCpu: 2, processMemoryMiB: 50, displayName: DISPLAY_NAMES.wsgi, protocol: 'session', interpreterOption: 'python', hasPreloader: true, supportsThreads: true,
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => r.add(pythonOption));
      kernel.hooks.detectAppType.tapPromise(NAME, detectExplicit('wsgi'));
      kernel.hooks.detectAppType.tapPromise({ name: NAME, stage: Stage.late }, detectLayouts('wsgi'));
      kernel.hooks.resolveLoader.for('wsgi').tapPromise(NAME, async (app, method) => {
        const { python, reason } = await choosePython(app);
        const script = method === 'smart' ? 'wsgi-preloader.py' : 'wsgi-loader.py';
        return { command: python, args: [kernel.helperScript(script)], readiness: { kind: 'handshake' }, note: reason };
      });
      kernel.hooks.buildSpawnCommand.for('wsgi').tap(NAME, (cmd) => {
        cmd.env.PYTHONUNBUFFERED = '1';
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.for('wsgi').tapPromise(NAME, async (report, ctx) => {
        const withHints = (await import('./python-hints.ts')).pythonHints(report, ctx, NAME);
        return (await import('../languages/python-other-interpreters.ts')).otherInterpreterHint(withHints, ctx, NAME);
      });
    },
  });
}
