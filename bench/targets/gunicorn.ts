// gunicorn with sync workers (one request per process at a time).
import { launch } from '../proc/launch.ts';
import { which } from './which.ts';
import { masterWorkersServer, type RunningServer, type StartOptions, type Target } from './target.ts';

export function gunicornTarget(): Target {
  return {
    id: 'gunicorn-wsgi',
    server: 'gunicorn',
    app: 'wsgi',
    label: 'gunicorn wsgi',
    spawnsOnDemand: false,
    notes: 'sync workers, -w N',
    async unavailable() {
      return which('gunicorn') ? undefined : 'gunicorn is not installed (bench/install-peers.sh installs the Debian package "gunicorn")';
    },
    async start(o: StartOptions): Promise<RunningServer> {
      const l = launch('gunicorn', ['-w', String(o.processes), '-b', `127.0.0.1:${o.port}`, '--log-level', 'warning',
        '--chdir', o.appDir, 'passenger_wsgi:application'], { cwd: o.appDir });
      return masterWorkersServer(l);
    },
  };
}
