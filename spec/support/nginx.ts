// A real nginx (Debian's package) in a private prefix, with the stock
// worker user www-data unless told otherwise, including the configuration
// `passenger nginx-config` printed. Stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onAbort } from './abort-cleanup.ts';

export interface RunningNginx {
  prefix: string;
  output(): string;
  /** nginx has exited (a bad configuration, say). */
  exited(): boolean;
  stop(): Promise<void>;
}

/** `siteConfig` goes in nginx's http {} block; a function gets the private prefix first (to put certificates there, say). */
export function startNginx(siteConfig: string | ((prefix: string) => string), opts: { user?: string } = {}): RunningNginx {
  const prefix = mkdtempSync(join(tmpdir(), 'psg-nginx-'));
  chmodSync(prefix, 0o711);
  writeFileSync(join(prefix, 'passenger.conf'), typeof siteConfig === 'string' ? siteConfig : siteConfig(prefix));
  copyFileSync('/etc/nginx/scgi_params', join(prefix, 'scgi_params'));
  writeFileSync(join(prefix, 'nginx.conf'), `daemon off;
user ${opts.user ?? 'www-data'};
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path ${prefix}/client_body_temp;
    proxy_temp_path ${prefix}/proxy_temp;
    fastcgi_temp_path ${prefix}/fastcgi_temp;
    uwsgi_temp_path ${prefix}/uwsgi_temp;
    scgi_temp_path ${prefix}/scgi_temp;
    include passenger.conf;
}
`);
  let out = '';
  const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  // If the spec runner is interrupted, nginx (which would outlive it) and its prefix go too.
  const unregister = onAbort(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGTERM');
    rmSync(prefix, { recursive: true, force: true });
  });
  return {
    prefix,
    output: () => out,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await exited;
      }
      rmSync(prefix, { recursive: true, force: true });
      unregister();
    },
  };
}

export interface Reply { status: number; body: string }

export function get(port: number, host: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: { Host: host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    }).on('error', reject);
  });
}
