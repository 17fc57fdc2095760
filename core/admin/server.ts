// The admin API: HTTP over the instance's admin socket (0600), JSON in and
// out. Read-only password: GET /status. Full-access password: also restart
// an app, detach a process, stop the instance. docs/admin-api.md describes it.
import http from 'node:http';
import type { Logger } from '../log/logger.ts';
import type { AdminPasswords } from '../instance/instance-dir.ts';
import { listenUnix } from '../instance/unix-socket.ts';
import { describeError } from '../errors/passenger-error.ts';
import type { ErrorCode } from '../errors/codes.ts';
import { accessFor } from './auth.ts';

export interface AdminActions {
  /** Instance and pool status, as JSON-ready data. */
  status(): Promise<unknown>;
  /** false: no such app in the pool. */
  restartApp(appRoot: string): boolean;
  /** false: no such process. */
  detachProcess(pid: number): boolean;
  /** Stops the whole instance (after this response is sent). */
  stopInstance(): void;
  /** Reloads the TLS certificate: its summary, or undefined when TLS is off; throws when the files are bad. */
  reloadTls(): string | undefined;
}

const MAX_BODY = 64 * 1024;

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function fail(res: http.ServerResponse, status: number, code: ErrorCode, message: string, extra: Record<string, string> = {}): void {
  for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
  send(res, status, { error: message, code });
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new Error('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) { resolve({}); return; }
      try {
        const v: unknown = JSON.parse(text);
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('expected a JSON object');
        resolve(v as Record<string, unknown>);
      } catch (e) { reject(e as Error); }
    });
    req.on('error', reject);
  });
}

export class AdminServer {
  readonly #server: http.Server;
  readonly #log: Logger;

  constructor(passwords: AdminPasswords, actions: AdminActions, log: Logger) {
    this.#log = log.child('[admin]');
    this.#server = http.createServer({ requestTimeout: 30_000 }, (req, res) => {
      this.#handle(req, res, passwords, actions).catch((e: unknown) => {
        this.#log.error(`${req.method} ${req.url}: ${describeError(e)}`);
        if (!res.headersSent) send(res, 500, { error: describeError(e) });
      });
    });
  }

  listen(path: string): Promise<void> {
    return listenUnix(this.#server, path, { mode: 0o600 });
  }

  close(): Promise<void> {
    return new Promise((r) => { this.#server.close(() => r()); this.#server.closeAllConnections(); });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse, passwords: AdminPasswords, actions: AdminActions): Promise<void> {
    const access = accessFor(req.headers.authorization, passwords);
    if (access === 'none') {
      this.#log.warn(`refused ${req.method} ${req.url}: ${req.headers.authorization ? 'wrong' : 'no'} password`);
      fail(res, 401, 'PSG_ERR_ADMIN_AUTH', 'a password is needed: Authorization: Bearer <password from the instance directory>', { 'WWW-Authenticate': 'Bearer realm="passenger"' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://admin');
    const path = url.pathname;
    if (req.method === 'GET' && path === '/status') {
      send(res, 200, await actions.status());
      return;
    }
    const detach = /^\/processes\/(\d+)\/detach$/.exec(path);
    const isAction = path === '/apps/restart' || path === '/stop' || path === '/tls/reload' || detach !== null;
    if (!isAction) { fail(res, 404, 'PSG_ERR_ADMIN_NOT_FOUND', `no such endpoint: ${req.method} ${path}`); return; }
    if (req.method !== 'POST') { fail(res, 405, 'PSG_ERR_ADMIN_BAD_REQUEST', `${path} takes POST`, { Allow: 'POST' }); return; }
    if (access !== 'full') {
      this.#log.warn(`refused ${req.method} ${path}: the read-only password cannot do that`);
      fail(res, 403, 'PSG_ERR_ADMIN_FORBIDDEN', 'this action needs the full-access password');
      return;
    }
    if (path === '/apps/restart') {
      let body: Record<string, unknown>;
      try { body = await readJson(req); } catch (e) { fail(res, 400, 'PSG_ERR_ADMIN_BAD_REQUEST', describeError(e)); return; }
      const appRoot = body.appRoot;
      if (typeof appRoot !== 'string' || !appRoot) { fail(res, 400, 'PSG_ERR_ADMIN_BAD_REQUEST', 'expected {"appRoot": "/path/to/app"}'); return; }
      if (!actions.restartApp(appRoot)) { fail(res, 404, 'PSG_ERR_ADMIN_NOT_FOUND', `no app with root ${appRoot} in the pool`); return; }
      this.#log.info(`restarting ${appRoot}`);
      send(res, 200, { restarting: appRoot });
      return;
    }
    if (path === '/tls/reload') {
      let summary: string | undefined;
      try { summary = actions.reloadTls(); } catch (e) {
        this.#log.error(`TLS certificate not reloaded, the old one stays in use: ${describeError(e)}`);
        fail(res, 422, 'PSG_ERR_TLS_CERTIFICATE', describeError(e));
        return;
      }
      if (summary === undefined) { fail(res, 404, 'PSG_ERR_ADMIN_NOT_FOUND', 'TLS is not enabled on this instance (ssl is off)'); return; }
      send(res, 200, { reloaded: true, certificate: summary });
      return;
    }
    if (detach) {
      const pid = Number(detach[1]);
      if (!actions.detachProcess(pid)) { fail(res, 404, 'PSG_ERR_ADMIN_NOT_FOUND', `no process ${pid} in the pool`); return; }
      this.#log.info(`detached process ${pid}`);
      send(res, 200, { detached: pid });
      return;
    }
    this.#log.info('stop requested');
    res.once('finish', () => actions.stopInstance());
    send(res, 202, { stopping: true });
  }
}
