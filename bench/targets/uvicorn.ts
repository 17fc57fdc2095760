// uvicorn alone (no proxy in front), with as many worker processes as our
// server runs, under the same interpreter (Debian's python3-uvicorn for
// /usr/bin/python3; it uses h11 and asyncio there, as our loader uses asyncio).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launch, runToEnd } from '../proc/launch.ts';
import { masterAndWorkers, masterWorkersServer, type RunningServer, type StartOptions, type Target } from './target.ts';

const PYTHON = '/usr/bin/python3';
// uvicorn's own CLI, with TCP_NODELAY on its workers' connections (uvicorn-nodelay.py says why).
const LAUNCHER = fileURLToPath(new URL('./uvicorn-nodelay.py', import.meta.url));

export function uvicornTarget(): Target {
  return {
    id: 'uvicorn-asgi',
    server: 'uvicorn',
    app: 'asgi',
    label: 'uvicorn asgi',
    spawnsOnDemand: false,
    notes: `${PYTHON} -m uvicorn --workers N, with TCP_NODELAY (bench/targets/uvicorn-nodelay.py)`,
    async unavailable() {
      if (!existsSync(PYTHON)) return `${PYTHON} is missing`;
      const { code } = await runToEnd(PYTHON, ['-c', 'import uvicorn'], { timeoutMs: 30_000 });
      return code === 0 ? undefined : 'uvicorn is not installed for /usr/bin/python3 (bench/install-peers.sh installs the Debian package "python3-uvicorn")';
    },
    async start(o: StartOptions): Promise<RunningServer> {
      const l = launch(PYTHON, [LAUNCHER, '--workers', String(o.processes), '--host', '127.0.0.1', '--port', String(o.port),
        '--log-level', 'warning', '--no-access-log', '--app-dir', o.appDir, 'passenger_asgi:application'], { cwd: o.appDir });
      const server = masterWorkersServer(l);
      return {
        ...server,
        // Workers are multiprocessing spawn children; the resource tracker beside them is a helper.
        classify(tree) {
          const roles = masterAndWorkers(l.pid, tree);
          const tracker = roles.apps.filter((p) => /resource_tracker/.test(p.cmdline));
          return { ...roles, apps: roles.apps.filter((p) => !tracker.includes(p)), others: [...roles.others, ...tracker] };
        },
      };
    },
  };
}
