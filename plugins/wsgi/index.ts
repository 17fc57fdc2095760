// Python WSGI apps (passenger_wsgi.py), loaded by helper-scripts/wsgi-loader.py
// and served over the session protocol. The interpreter is the shared `python`
// option, else a virtualenv in the app root, else python3 (languages/python.ts).
import { definePlugin, detectByStartupFile, type Plugin } from '../../core/index.ts';
import { choosePython, pythonOption, type PythonOptions } from '../languages/index.ts';

const NAME = 'passenger:wsgi';
const WSGI = { name: 'wsgi', startupFiles: ['passenger_wsgi.py'] };

export default function wsgi(): Plugin {
  return definePlugin<PythonOptions>({
    name: NAME,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        ...WSGI, processesPerCpu: 2, processMemoryMiB: 50, displayName: 'Python (WSGI)', protocol: 'session', interpreterOption: 'python', hasPreloader: true, supportsThreads: true,
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => r.add(pythonOption));
      kernel.hooks.detectAppType.tapPromise(NAME, detectByStartupFile(WSGI));
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
      kernel.hooks.enrichErrorReport.for('wsgi').tapPromise(NAME, async (report, ctx) => (await import('./python-hints.ts')).pythonHints(report, ctx, NAME));
    },
  });
}
