// What the nginx-fronted rows share: where Debian puts the binaries, the
// parts of nginx.conf that are the same for all of them (one worker, no
// access log, scratch paths), waiting for an upstream's socket, and nginx
// started in front of an upstream as one server under test.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { launch, type Launched } from '../proc/launch.ts';
import { isAlive } from '../proc/tree.ts';
import type { RunningServer } from './target.ts';
import { which } from './which.ts';

/** The first of `names` on PATH or in /usr/sbin (Debian's place, not on every PATH). */
export function findSbin(names: string[]): string | undefined {
  for (const n of names) {
    const found = which(n) ?? (existsSync(`/usr/sbin/${n}`) ? `/usr/sbin/${n}` : undefined);
    if (found) return found;
  }
  return undefined;
}

export function nginxUnavailable(): string | undefined {
  return findSbin(['nginx']) ? undefined : 'nginx is not installed (apt-get install nginx-light)';
}

/**
 * A whole nginx.conf: one worker (our core is one process too), no access log,
 * kept-alive client connections, every scratch path inside `workDir`, and `http`
 * (upstreams, servers) as given.
 */
export function nginxConf(workDir: string, http: string): string {
  const temp = join(workDir, 'nginx-temp');
  mkdirSync(temp, { recursive: true });
  // As root, workers would run as nobody, who cannot enter the 0700 scratch directories.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'nginx-error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path ${temp}/body; proxy_temp_path ${temp}/proxy; fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi; scgi_temp_path ${temp}/scgi;
${http}
}
`;
}

/** Until something accepts on the Unix socket: nginx started before would answer 502 (Bad Gateway) meanwhile. */
export async function untilAccepting(socket: string, what: string, alive: () => boolean, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect({ path: socket });
      c.once('connect', () => { c.destroy(); resolve(true); });
      c.once('error', () => { c.destroy(); resolve(false); });
    });
    if (ok) return;
    if (!alive() || Date.now() > until) throw new Error(`${what} did not listen on ${socket}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An upstream already launched: what it is called, and the Unix socket it listens on. */
export interface Upstream {
  proc: Launched;
  socket: string;
  what: string;
}

/**
 * nginx in front of `upstream`, once the upstream accepts connections, with
 * `http` as its http block's content: one server under test. The nginx worker
 * does the core's part, the upstream's children run the app, and nginx's
 * master and the upstream's parent are helpers.
 */
export async function nginxInFront(workDir: string, upstream: Upstream, http: string): Promise<RunningServer> {
  const up = upstream.proc;
  try {
    await untilAccepting(upstream.socket, upstream.what, () => isAlive(up.pid));
  } catch (e) {
    const out = up.output();
    await up.stop();
    throw new Error(`${(e as Error).message}\n${out}`);
  }
  const conf = join(workDir, 'nginx.conf');
  writeFileSync(conf, nginxConf(workDir, http));
  const nginx = launch(findSbin(['nginx'])!, ['-p', workDir, '-c', conf, '-g', 'daemon off;']);
  return {
    startedAt: Math.min(up.startedAt, nginx.startedAt),
    alive: () => isAlive(up.pid) && isAlive(nginx.pid),
    roots: () => [nginx.pid, up.pid],
    classify(tree) {
      const core = tree.find((p) => p.ppid === nginx.pid);
      const apps = tree.filter((p) => p.ppid === up.pid);
      return { core, apps, others: tree.filter((p) => p !== core && !apps.includes(p)) };
    },
    output: () => `${nginx.output()}${up.output()}`,
    async stop() {
      await Promise.all([nginx.stop(), up.stop()]);
    },
  };
}
