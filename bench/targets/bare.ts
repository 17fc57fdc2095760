// The physical limit: the Node hello world with no proxy, as a node:cluster
// of the same number of processes.
import { join } from 'node:path';
import { launch } from '../proc/launch.ts';
import { masterWorkersServer, type RunningServer, type StartOptions, type Target } from './target.ts';

export function bareNodeTarget(): Target {
  return {
    id: 'bare-node',
    server: 'bare',
    app: 'node',
    label: 'bare Node (cluster, no proxy)',
    spawnsOnDemand: false,
    async unavailable() { return undefined; },
    async start(o: StartOptions): Promise<RunningServer> {
      const l = launch(process.execPath, [join(o.appDir, 'bare-cluster.cjs')], {
        cwd: o.appDir, env: { ...process.env, PORT: String(o.port), WORKERS: String(o.processes), NODE_ENV: 'production' },
      });
      return masterWorkersServer(l);
    },
  };
}
