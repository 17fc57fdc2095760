// The path every request takes, in phases: checkout a session from the pool,
// send the request over the process's protocol, release the session. Each
// failure maps to one response (server/error-response.ts) and one log line.
import type { AppSpec } from '../config/app-spec.ts';
import type { Logger } from '../log/logger.ts';
import type { Pool } from '../pool/pool.ts';
import { Session } from '../pool/session.ts';
import { PassengerError, describeError, isPassengerError } from '../errors/passenger-error.ts';
import type { ForwardOutcome } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from './front.ts';
import { sendError } from './error-response.ts';
import { noteCheckout, observe, settle } from './observed-response.ts';
import type { KernelHooks } from '../hooks.ts';
import type { Duplex } from 'node:stream';

const MAX_ATTEMPTS = 3;

export class Forwarder {
  readonly #pool: Pool;
  readonly #log: Logger;
  readonly #hooks: KernelHooks | undefined;
  /** Requests in flight, for graceful shutdown. */
  inFlight = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(pool: Pool, log: Logger, hooks?: KernelHooks) {
    this.#pool = pool;
    this.#log = log;
    this.#hooks = hooks;
  }

  /** The response to write to: request events and trace context (observed-response.ts). */
  observe(app: AppSpec, req: FrontRequest, res: FrontResponse): FrontResponse {
    return this.#hooks ? observe(this.#hooks, app, req, res) : res;
  }

  async handle(app: AppSpec, req: FrontRequest, res: FrontResponse): Promise<void> {
    res = this.observe(app, req, res);
    this.inFlight++;
    try {
      await this.#handle(app, req, res);
    } catch (e) {
      this.#log.error(`${req.method} ${req.url}: ${describeError(e)}`);
      sendError(req, res, e, app);
    } finally {
      settle(res);
      if (--this.inFlight === 0) this.#notifyIdle();
    }
  }

  async #checkout(app: AppSpec): Promise<Session> {
    const s = this.#pool.checkout(app);
    return s instanceof Session ? s : await s;
  }

  async #handle(app: AppSpec, req: FrontRequest, res: FrontResponse): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let session: Session;
      try {
        session = await this.#checkout(app);
      } catch (e) {
        this.#logRefusal(app, req, e);
        sendError(req, res, e, app);
        return;
      }
      noteCheckout(res);
      const outcome = await this.#send(app, session, req, res);
      session.close(outcome.processHealthy !== false);
      if (outcome.ok) return;
      // Nothing reached that process (it died between checkout and connect): stop routing to it, and let another one serve.
      if (outcome.retryable) this.#pool.findGroup(app.appRoot)?.retire(session.process, 'crash');
      if (outcome.retryable && attempt < MAX_ATTEMPTS && !res.headersSent) continue;
      const err = outcome.error ?? new PassengerError('PSG_ERR_APP_RESPONSE', 'the request failed');
      if (err.message.startsWith('the client went away')) return;
      this.#log.warn(`${req.method} ${req.url} -> ${app.name} process ${session.process.pid}: ${err.message}`);
      if (!res.headersSent) sendError(req, res, err, app);
      return;
    }
  }

  #send(app: AppSpec, session: Session, req: FrontRequest, res: FrontResponse): Promise<ForwardOutcome> {
    const p = session.process;
    const limit = app.options.max_request_time;
    if (limit <= 0) return p.protocol.forward(p.target, req, res);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#log.warn(`${req.method} ${req.url}: process ${p.pid} exceeded max_request_time (${limit} s); replacing it`);
      this.#pool.findGroup(app.appRoot)?.kill(p, 'max_request_time');
    }, limit * 1000);
    return p.protocol.forward(p.target, req, res).then((o) => {
      clearTimeout(timer);
      if (!timedOut || o.ok) return o;
      return { ok: false, processHealthy: false, error: new PassengerError('PSG_ERR_REQUEST_TIMEOUT', `the app did not answer within max_request_time (${limit} s)`) };
    });
  }

  /** WebSocket and other upgrades, for protocols that support them. */
  async upgrade(app: AppSpec, req: FrontRequest, client: Duplex, head: Buffer): Promise<void> {
    let session: Session;
    try {
      session = await this.#checkout(app);
    } catch (e) {
      client.end(`HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      this.#logRefusal(app, req, e);
      return;
    }
    const p = session.process;
    if (!p.protocol.upgrade) {
      session.close();
      client.end('HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const outcome = await p.protocol.upgrade(p.target, req, client, head);
    session.close(outcome.processHealthy !== false);
  }

  #logRefusal(app: AppSpec, req: FrontRequest, e: unknown): void {
    const code = isPassengerError(e) ? e.code : '';
    if (code === 'PSG_ERR_POOL_APP_FAILED') this.#log.warn(`${req.method} ${req.url}: ${describeError(e)}`);
    else this.#log.warn(`${req.method} ${req.url} (${app.name}): ${describeError(e)}`);
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  #notifyIdle(): void {
    const w = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const r of w) r();
  }
}
