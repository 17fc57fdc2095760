// nginx in front of php-fpm, the setup PHP users know: one nginx worker
// (our core is one process too) passing every request to the front controller
// over FastCGI on a Unix socket, and one php-fpm pool with as many workers
// (pm = static) as the other servers have app processes. nginx's defaults
// otherwise (request and response buffering on); no access log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch } from '../proc/launch.ts';
import { findSbin, nginxInFront, nginxUnavailable } from './nginx-common.ts';
import type { RunningServer, StartOptions, Target } from './target.ts';

const PARAMS = ['QUERY_STRING $query_string', 'REQUEST_METHOD $request_method', 'CONTENT_TYPE $content_type',
  'CONTENT_LENGTH $content_length', 'SCRIPT_NAME /index.php', 'REQUEST_URI $request_uri', 'DOCUMENT_URI $document_uri',
  'DOCUMENT_ROOT $document_root', 'SERVER_PROTOCOL $server_protocol', 'GATEWAY_INTERFACE CGI/1.1', 'SERVER_SOFTWARE nginx',
  'REMOTE_ADDR $remote_addr', 'REMOTE_PORT $remote_port', 'SERVER_ADDR $server_addr', 'SERVER_PORT $server_port',
  'SERVER_NAME $server_name', 'SCRIPT_FILENAME $document_root/index.php', 'PATH_INFO $uri'];

export function nginxPhpTarget(): Target {
  return {
    id: 'nginx-php',
    server: 'nginx',
    app: 'php',
    label: 'nginx + php-fpm',
    spawnsOnDemand: false,
    notes: 'one nginx worker, fastcgi_pass to a Unix socket; php-fpm pm = static with N workers',
    async unavailable() {
      const noNginx = nginxUnavailable();
      if (noNginx) return noNginx;
      if (!findSbin(['php-fpm8.2', 'php-fpm'])) return 'php-fpm is not installed (apt-get install php8.2-fpm)';
      return undefined;
    },
    async start(o: StartOptions): Promise<RunningServer> {
      const root = process.getuid?.() === 0;
      const socket = join(o.workDir, 'fpm.sock');
      const fpmConf = join(o.workDir, 'php-fpm.conf');
      writeFileSync(fpmConf, `[global]
error_log = ${join(o.workDir, 'php-fpm.log')}
daemonize = no
[bench]
listen = ${socket}
pm = static
pm.max_children = ${o.processes}
${root ? 'user = root\ngroup = root\n' : ''}`);
      const fpm = launch(findSbin(['php-fpm8.2', 'php-fpm'])!, ['--nodaemonize', '--fpm-config', fpmConf, ...(root ? ['--allow-to-run-as-root'] : [])]);
      return nginxInFront(o.workDir, { proc: fpm, socket, what: 'php-fpm' }, `  client_max_body_size 0;
  server {
    listen 127.0.0.1:${o.port};
    root ${o.appDir};
    location / {
      fastcgi_pass unix:${socket};
${PARAMS.map((p) => `      fastcgi_param ${p};`).join('\n')}
    }
  }`);
    },
  };
}
