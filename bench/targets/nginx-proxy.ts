// nginx as a reverse proxy in front of the bare Node cluster: what one proxy
// hop costs when a C proxy makes it, the reference for our core's hop. One
// nginx worker (our core is one process too), kept-alive connections to the
// app over a Unix socket (as our core uses), nginx's defaults otherwise
// (request and response buffering on); no access log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../proc/launch.ts';
import { isAlive } from '../proc/tree.ts';
import { findSbin, nginxConf, nginxUnavailable, untilAccepting } from './nginx-common.ts';
import type { RunningServer, StartOptions, Target } from './target.ts';

export function nginxProxyNodeTarget(): Target {
  return {
    id: 'nginx-node',
    server: 'nginx',
    app: 'node',
    label: 'nginx proxy + bare Node (cluster)',
    spawnsOnDemand: false,
    notes: 'one nginx worker, proxy_pass over HTTP/1.1 with kept-alive upstream connections to a Unix socket; the bare-node cluster behind it',
    async unavailable() { return nginxUnavailable(); },
    async start(o: StartOptions): Promise<RunningServer> {
      const socket = join(o.workDir, 'app.sock');
      const cluster = launch(process.execPath, [join(o.appDir, 'bare-cluster.cjs')], {
        cwd: o.appDir, env: { ...process.env, SOCKET: socket, WORKERS: String(o.processes), NODE_ENV: 'production' },
      });
      try {
        await untilAccepting(socket, 'the Node cluster', () => isAlive(cluster.pid));
      } catch (e) {
        const out = cluster.output();
        await cluster.stop();
        throw new Error(`${(e as Error).message}\n${out}`);
      }
      const conf = join(o.workDir, 'nginx.conf');
      // Without `Connection ""` nginx would send Connection: close upstream and reconnect per request.
      writeFileSync(conf, nginxConf(o.workDir, `  client_max_body_size 0;
  upstream app { server unix:${socket}; keepalive 64; }
  server {
    listen 127.0.0.1:${o.port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`));
      const nginx = launch(findSbin(['nginx'])!, ['-p', o.workDir, '-c', conf, '-g', 'daemon off;']);
      return {
        startedAt: Math.min(cluster.startedAt, nginx.startedAt),
        alive: () => isAlive(cluster.pid) && isAlive(nginx.pid),
        roots: () => [nginx.pid, cluster.pid],
        classify(tree) {
          // The nginx worker proxies (the core's part); the cluster's workers run the app; nginx's master and the cluster's primary are helpers.
          const core = tree.find((p) => p.ppid === nginx.pid);
          const apps = tree.filter((p) => p.ppid === cluster.pid);
          return { core, apps, others: tree.filter((p) => p !== core && !apps.includes(p)) };
        },
        output: () => `${nginx.output()}${cluster.output()}`,
        async stop() {
          await Promise.all([nginx.stop(), cluster.stop()]);
        },
      };
    },
  };
}
