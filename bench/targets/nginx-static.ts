// nginx serving a directory of files, the reference for the static-file row:
// sendfile, no access log, one worker (our core is one process too).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../proc/launch.ts';
import { isAlive } from '../proc/tree.ts';
import { findSbin, nginxConf, nginxUnavailable } from './nginx-common.ts';
import { masterAndWorkers, type RunningServer } from './target.ts';

export function nginxStaticUnavailable(): string | undefined {
  return nginxUnavailable();
}

/** Serves `root` on 127.0.0.1:`port`; `workDir` holds the configuration, pid file and temp directories. */
export function startNginxStatic(root: string, port: number, workDir: string): RunningServer {
  const conf = join(workDir, 'nginx.conf');
  writeFileSync(conf, nginxConf(workDir, `  sendfile on;
  tcp_nopush on;
  types { application/octet-stream bin; }
  server { listen 127.0.0.1:${port}; root ${root}; }`));
  const l = launch(findSbin(['nginx']) ?? 'nginx', ['-p', workDir, '-c', conf, '-g', 'daemon off;']);
  return {
    startedAt: l.startedAt,
    alive: () => isAlive(l.pid),
    roots: () => [l.pid],
    classify: (tree) => masterAndWorkers(l.pid, tree),
    output: l.output,
    stop: () => l.stop(),
  };
}
