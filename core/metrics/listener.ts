// The metrics listener (metrics_address): /metrics for Prometheus, /healthz
// and /readyz for load balancers and Kubernetes probes, and / for people.
// Separate from the app's port, so that nothing here is ever routed to an
// app, and so that it keeps answering while the server drains.
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log/logger.ts';
import type { Pool } from '../pool/pool.ts';
import { PassengerError, describeError } from '../errors/passenger-error.ts';
import type { Exposition } from './exposition.ts';
import { readiness } from './readiness.ts';
import { renderMain, renderStatusPage, STATUS_CSP, type StatusSource } from './status-page.ts';

export interface MetricsListenerOptions {
  /** host:port */
  address: string;
  pool: Pool;
  exposition: Exposition;
  status: StatusSource;
  /** The instance's read-only admin password: the status page asks for it when reachable from other machines. */
  readOnlyPassword: string;
  log: Logger;
}

/** `host:port` (IPv6 in brackets). */
export function parseMetricsAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new PassengerError('PSG_ERR_CONFIG_TYPE', `metrics_address: expected host:port (e.g. 127.0.0.1:9469), got "${text}"`, { key: 'metrics_address' });
  return { host: m[1] ?? m[2]!, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** HTTP Basic with any user name and the read-only password. */
export function basicAuthOk(header: string | undefined, password: string): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && same(decoded.slice(colon + 1), password);
}

export class MetricsListener {
  readonly #opts: MetricsListenerOptions;
  readonly #server: http.Server;
  readonly #host: string;
  readonly #port: number;
  /** Set when a graceful stop begins: /readyz answers 503 from then on. */
  stopping = false;

  constructor(opts: MetricsListenerOptions) {
    this.#opts = opts;
    const { host, port } = parseMetricsAddress(opts.address);
    this.#host = host;
    this.#port = port;
    this.#server = http.createServer({ requestTimeout: 10_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 }, (req, res) => {
      this.#route(req, res).catch((e: unknown) => {
        opts.log.error(`metrics listener: ${req.method} ${req.url}: ${describeError(e)}`);
        if (!res.headersSent) this.#send(res, req, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    });
  }

  get port(): number { return (this.#server.address() as AddressInfo | null)?.port ?? this.#port; }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', (e) => reject(new Error(`metrics_address ${this.#opts.address}: ${describeError(e)}`)));
      this.#server.listen(this.#port, this.#host, () => {
        if (!isLoopback(this.#host)) this.#opts.log.warn(`metrics listener on ${this.#opts.address} is reachable from other machines; its status page asks for the read-only admin password`);
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #send(res: http.ServerResponse, req: http.IncomingMessage, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
    const bytes = Buffer.from(body);
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(bytes.length), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...extra });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  async #route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://metrics');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.#send(res, req, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
      return;
    }
    switch (url.pathname) {
      case '/metrics': {
        const { body, contentType } = await this.#opts.exposition.render(req.headers.accept);
        this.#send(res, req, 200, contentType, body);
        return;
      }
      case '/healthz':
        this.#send(res, req, 200, 'application/json', '{"status":"ok"}\n');
        return;
      case '/readyz': {
        const r = readiness(this.#opts.pool, this.stopping);
        this.#send(res, req, r.ready ? 200 : 503, 'application/json', JSON.stringify(r) + '\n');
        return;
      }
      case '/': {
        if (!isLoopback(this.#host) && !basicAuthOk(req.headers.authorization, this.#opts.readOnlyPassword)) {
          this.#send(res, req, 401, 'text/plain; charset=utf-8', 'the status page needs the instance\'s read-only admin password (any user name)\n',
            { 'WWW-Authenticate': 'Basic realm="passenger status", charset="UTF-8"' });
          return;
        }
        const part = url.searchParams.get('part') === 'main';
        const body = part ? renderMain(this.#opts.status).value : renderStatusPage(this.#opts.status);
        this.#send(res, req, 200, 'text/html; charset=utf-8', body, { 'Content-Security-Policy': STATUS_CSP, 'X-Frame-Options': 'DENY' });
        return;
      }
      default:
        this.#send(res, req, 404, 'text/plain; charset=utf-8', 'not found: try /metrics, /healthz, /readyz or /\n');
    }
  }
}
