// nginx serving a directory of files, the reference for the static-file row:
// sendfile, no access log, one worker (our core is one process too).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../proc/launch.ts';
import { isAlive } from '../proc/tree.ts';
import { masterAndWorkers, type RunningServer } from './target.ts';
import { which } from './which.ts';

/** Debian puts it in /usr/sbin, which is not on every PATH. */
function nginxPath(): string | undefined {
  return which('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
}

export function nginxStaticUnavailable(): string | undefined {
  return nginxPath() ? undefined : 'nginx is not installed (apt-get install nginx-light)';
}

/** Serves `root` on 127.0.0.1:`port`; `workDir` holds the configuration, pid file and temp directories. */
export function startNginxStatic(root: string, port: number, workDir: string): RunningServer {
  const temp = join(workDir, 'nginx-temp');
  mkdirSync(temp, { recursive: true });
  const conf = join(workDir, 'nginx.conf');
  // As root, workers would run as nobody, who cannot enter the 0700 scratch directories.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  writeFileSync(conf, `${user}worker_processes 1;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'nginx-error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  types { application/octet-stream bin; }
  client_body_temp_path ${temp}/body; proxy_temp_path ${temp}/proxy; fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi; scgi_temp_path ${temp}/scgi;
  server { listen 127.0.0.1:${port}; root ${root}; }
}
`);
  const l = launch(nginxPath() ?? 'nginx', ['-p', workDir, '-c', conf, '-g', 'daemon off;']);
  return {
    startedAt: l.startedAt,
    alive: () => isAlive(l.pid),
    roots: () => [l.pid],
    classify: (tree) => masterAndWorkers(l.pid, tree),
    output: l.output,
    stop: () => l.stop(),
  };
}
