// puma in cluster mode: one single-threaded worker per app process, as the
// other servers run one request per process at a time.
import { launch } from '../proc/launch.ts';
import { which } from './which.ts';
import { masterWorkersServer, type RunningServer, type StartOptions, type Target } from './target.ts';

export function pumaTarget(): Target {
  return {
    id: 'puma-rack',
    server: 'puma',
    app: 'rack',
    label: 'puma rack',
    spawnsOnDemand: false,
    notes: 'cluster mode, -w N -t 1:1',
    async unavailable() {
      return which('puma') ? undefined : 'puma is not installed (bench/install-peers.sh installs the Debian package "puma")';
    },
    async start(o: StartOptions): Promise<RunningServer> {
      const l = launch('puma', ['-w', String(o.processes), '-t', '1:1', '-b', `tcp://127.0.0.1:${o.port}`,
        '-e', 'production', '--silent', 'config.ru'], { cwd: o.appDir });
      return masterWorkersServer(l);
    },
  };
}
