// nginx as a reverse proxy in front of the bare Node cluster: what one proxy
// hop costs when a C proxy makes it, the reference for our core's hop. One
// nginx worker (our core is one process too), kept-alive connections to the
// app over a Unix socket (as our core uses), nginx's defaults otherwise
// (request and response buffering on); no access log.
import { join } from 'node:path';
import { launch } from '../proc/launch.ts';
import { nginxInFront, nginxUnavailable } from './nginx-common.ts';
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
      // Without `Connection ""` nginx would send Connection: close upstream and reconnect per request.
      return nginxInFront(o.workDir, { proc: cluster, socket, what: 'the Node cluster' }, `  client_max_body_size 0;
  upstream app { server unix:${socket}; keepalive 64; }
  server {
    listen 127.0.0.1:${o.port};
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }`);
    },
  };
}
