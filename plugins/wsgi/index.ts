// Python WSGI apps (passenger_wsgi.py), loaded by helper-scripts/wsgi-loader.py
// and served over the session protocol. The interpreter is the `python`
// option, else a virtualenv in the app root, else python3.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppSpec, Plugin } from '../../core/index.ts';
import { detectByStartupFile } from '../../core/index.ts';

const NAME = 'passenger:wsgi';
const WSGI = { name: 'wsgi', startupFiles: ['passenger_wsgi.py'] };
const VIRTUALENVS = ['.venv', 'venv'];

/** The interpreter for an app, and why it was chosen. */
export async function choosePython(app: AppSpec): Promise<{ python: string; reason: string }> {
  if (typeof app.options.python === 'string') return { python: app.options.python, reason: `python option (${app.sources.python ?? 'set'})` };
  for (const dir of VIRTUALENVS) {
    const candidate = join(app.appRoot, dir, 'bin', 'python');
    try {
      await access(candidate, constants.X_OK);
      return { python: candidate, reason: `virtualenv ${dir}/ in the app directory` };
    } catch { /* not this one */ }
  }
  return { python: 'python3', reason: 'default (no python option, no .venv/ or venv/)' };
}

export default function wsgi(): Plugin {
  return {
    name: NAME,
    apiVersion: 1,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        ...WSGI, processesPerCpu: 2, processMemoryMiB: 50, displayName: 'Python (WSGI)', protocol: 'session', interpreterOption: 'python', hasPreloader: true,
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => r.add({
        name: 'python', type: 'string', scope: 'app',
        doc: 'the Python interpreter for WSGI apps: a command or a path (default: .venv/ or venv/ in the app, else python3)',
      }));
      kernel.hooks.detectAppType.tapPromise(NAME, detectByStartupFile(WSGI));
      kernel.hooks.resolveLoader.tapPromise(NAME, async (app, method) => {
        if (app.appType !== 'wsgi') return undefined;
        const { python, reason } = await choosePython(app);
        const script = method === 'smart' ? 'wsgi-preloader.py' : 'wsgi-loader.py';
        return { command: python, args: [kernel.helperScript(script)], readiness: { kind: 'handshake' }, note: reason };
      });
      kernel.hooks.buildSpawnCommand.tap(NAME, (cmd, app) => {
        if (app.appType !== 'wsgi') return cmd;
        cmd.env.PYTHONUNBUFFERED = '1';
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.tapPromise(NAME, async (report, ctx) => (await import('./python-hints.ts')).pythonHints(report, ctx, NAME));
    },
  };
}
