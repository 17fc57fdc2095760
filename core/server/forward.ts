// The path every request takes, in phases: buffer the body (for processes
// that serve few requests at once), checkout a session from the pool, send
// the request over the process's protocol (through a response buffer, for
// the same processes), release the session. A client that goes away ends its
// request at whichever phase it is in. Each failure maps to one response
// (server/error-response.ts) and one log line.
import { maskQuery } from '../error-reports/mask-query.ts';
import type { AppSpec } from '../config/app-spec.ts';
import type { Logger } from '../log/logger.ts';
import type { Pool } from '../pool/pool.ts';
import { Session } from '../pool/session.ts';
import type { AppProcess } from '../pool/app-process.ts';
import { PassengerError, describeError, isPassengerError } from '../errors/passenger-error.ts';
import type { ForwardOutcome } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from './front.ts';
import { sendError } from './error-response.ts';
import { bufferRequestBody } from './buffering/request-body.ts';
import { SpoolingResponse } from './buffering/response-spool.ts';
import { noteCheckout, observe, observeAnswered, observeReplied, settle } from './observed-response.ts';
import type { StaticReply } from './static/static-reply.ts';
import { noteIdle, noteRequestStarted } from '../protocols/gc-pacer.ts';
import type http from 'node:http';
import type { KernelHooks } from '../hooks.ts';
import type { Duplex, Readable } from 'node:stream';

const MAX_ATTEMPTS = 3;

export interface ForwarderOptions {
  /** Where request bodies and responses too large for memory are buffered (in the instance directory). */
  bufferDir: string;
  /** Largest request body in bytes; 0: no limit. */
  maxBodySize: number;
  /** A body being buffered that makes no progress for this long gets 408, in ms; 0: no limit. */
  clientBodyTimeoutMs: number;
}

function isClientGone(e: unknown): boolean {
  return isPassengerError(e) && e.code === 'PSG_ERR_CLIENT_GONE';
}

export class Forwarder {
  readonly #pool: Pool;
  readonly #log: Logger;
  readonly #opts: ForwarderOptions;
  readonly #hooks: KernelHooks | undefined;
  /** Requests in flight, for graceful shutdown. */
  inFlight = 0;
  #idleWaiters: (() => void)[] = [];
  /** Apps whose processes reported unlimited concurrency: their bodies may stream. */
  readonly #unlimitedApps = new Set<string>();

  constructor(pool: Pool, log: Logger, opts: ForwarderOptions, hooks?: KernelHooks) {
    this.#pool = pool;
    this.#log = log;
    this.#opts = opts;
    this.#hooks = hooks;
  }

  /** The response to write to: request events and trace context (observed-response.ts). */
  observe(app: AppSpec, req: FrontRequest, res: FrontResponse): FrontResponse {
    return this.#hooks ? observe(this.#hooks, app, req, res) : res;
  }

  /** The front end answered the request itself (static files): request events all the same. */
  answered(app: AppSpec, req: FrontRequest, res: http.ServerResponse, startedAt: number): void {
    if (this.#hooks) observeAnswered(this.#hooks, app, req, res, startedAt);
  }

  /** The front end answered from memory (a static file on the lean engine): written whole at once, with the same request events. */
  reply(app: AppSpec, req: FrontRequest, res: FrontResponse, reply: StaticReply | Promise<StaticReply>): void {
    const startedAt = performance.now();
    if (reply instanceof Promise) {
      // Reads into memory never fail (static-files.ts): a file that changed meanwhile gets a 503 reply.
      void reply.then((r) => this.#writeReply(app, req, res, r, startedAt));
      return;
    }
    this.#writeReply(app, req, res, reply, startedAt);
  }

  #writeReply(app: AppSpec, req: FrontRequest, res: FrontResponse, reply: StaticReply, startedAt: number): void {
    if (!res.clientGone) {
      res.writeHead(reply.status, reply.reason, reply.headers);
      if (reply.body) res.write(reply.body);
      res.end();
    }
    if (this.#hooks) observeReplied(this.#hooks, app, req, reply.status, reply.body?.length ?? 0, res.clientGone, startedAt);
  }

  async handle(app: AppSpec, req: FrontRequest, res: FrontResponse): Promise<void> {
    res = this.observe(app, req, res);
    this.inFlight++;
    noteRequestStarted();
    try {
      await this.#handle(app, req, res);
    } catch (e) {
      this.#log.error(`${req.method} ${maskQuery(req.url)}: ${describeError(e)}`);
      sendError(req, res, e, app);
    } finally {
      settle(res);
      if (--this.inFlight === 0) {
        this.#notifyIdle();
        noteIdle(this.#isIdle);
      }
    }
  }

  /**
   * A session: at once when a process has room (no promise, no microtask on
   * the usual path), else a queued one, which a client that goes away leaves.
   */
  #checkout(app: AppSpec, client: Pick<FrontResponse, 'onClose'>): Session | Promise<Session> {
    const s = this.#pool.checkout(app);
    if (s instanceof Session) return s;
    if (s.cancel) client.onClose(s.cancel);
    return s;
  }

  /** Whether the app's processes serve a limited number of requests at once (as its last one said; unknown before its first request: yes). */
  #limitedConcurrency(app: AppSpec): boolean {
    return !this.#unlimitedApps.has(app.appRoot);
  }

  #buffersBody(app: AppSpec, req: FrontRequest): boolean {
    const mode = app.options.buffer_request_body;
    if (mode === 'on') return true;
    // A chunked body has to be read to be held against max_body_size.
    if (this.#opts.maxBodySize > 0 && req.contentLength === undefined) return true;
    return mode !== 'off' && this.#limitedConcurrency(app);
  }

  #buffersResponse(app: AppSpec, p: AppProcess): boolean {
    if (p.concurrency === 0) this.#unlimitedApps.add(app.appRoot);
    else this.#unlimitedApps.delete(app.appRoot);
    const mode = app.options.buffer_response;
    return mode === 'on' || (mode !== 'off' && p.concurrency !== 0);
  }

  // Not async: the usual request (no body to hold) goes straight to #serve, without a promise of its own.
  #handle(app: AppSpec, req: FrontRequest, res: FrontResponse): Promise<void> | undefined {
    const max = this.#opts.maxBodySize;
    if (max > 0 && req.contentLength !== undefined && req.contentLength > max) {
      sendError(req, res, new PassengerError('PSG_ERR_HTTP_BODY_TOO_LARGE', `request body of ${req.contentLength} bytes is larger than max_body_size (${max})`));
      return undefined;
    }
    // No body (most requests), or one that may stream: nothing to hold.
    if (!req.body || !this.#buffersBody(app, req)) return this.#serve(app, req, res);
    return this.#bufferThenServe(app, req, res, req.body);
  }

  async #bufferThenServe(app: AppSpec, req: FrontRequest, res: FrontResponse, body: Readable): Promise<void> {
    let release: () => void;
    try {
      const buffered = await bufferRequestBody(body, { dir: this.#opts.bufferDir, maxSize: this.#opts.maxBodySize, idleTimeoutMs: this.#opts.clientBodyTimeoutMs });
      req.body = buffered.body;
      req.contentLength = buffered.length;
      release = buffered.release;
    } catch (e) {
      if (isClientGone(e)) { this.#log.debug(`${req.method} ${maskQuery(req.url)}: ${describeError(e)}`); return; }
      this.#log.warn(`${req.method} ${maskQuery(req.url)} (${app.name}): ${describeError(e)}`);
      sendError(req, res, e, app);
      return;
    }
    try {
      await this.#serve(app, req, res);
    } finally {
      release();
    }
  }

  async #serve(app: AppSpec, req: FrontRequest, res: FrontResponse): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let session: Session;
      try {
        const s = this.#checkout(app, res);
        session = s instanceof Session ? s : await s;
      } catch (e) {
        if (isClientGone(e)) return;
        this.#logRefusal(app, req, e);
        sendError(req, res, e, app);
        return;
      }
      noteCheckout(res, session.process.pid);
      const spool = this.#buffersResponse(app, session.process) ? new SpoolingResponse(res, this.#opts.bufferDir) : undefined;
      const outcome = await this.#send(app, session, req, spool ?? res);
      session.close(outcome.processHealthy !== false);
      // The process is free; the client may still be reading what was buffered for it.
      if (spool?.finished) await spool.finished;
      if (outcome.ok || outcome.clientGone) return;
      // Nothing reached that process (it died between checkout and connect): stop routing to it, and let another one serve.
      if (outcome.retryable) this.#pool.findGroup(app.appRoot)?.retire(session.process, 'crash');
      if (outcome.retryable && attempt < MAX_ATTEMPTS && !res.headersSent) continue;
      const err = outcome.error ?? new PassengerError('PSG_ERR_APP_RESPONSE', 'the request failed');
      this.#log.warn(`${req.method} ${maskQuery(req.url)} -> ${app.name} process ${session.process.pid}: ${err.message}`);
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
      this.#log.warn(`${req.method} ${maskQuery(req.url)}: process ${p.pid} exceeded max_request_time (${limit} s); replacing it`);
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
      session = await this.#checkout(app, { onClose: (cb) => { client.once('close', cb); } });
    } catch (e) {
      if (isClientGone(e)) return;
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
    if (code === 'PSG_ERR_POOL_APP_FAILED') this.#log.warn(`${req.method} ${maskQuery(req.url)}: ${describeError(e)}`);
    else this.#log.warn(`${req.method} ${maskQuery(req.url)} (${app.name}): ${describeError(e)}`);
  }

  readonly #isIdle = (): boolean => this.inFlight === 0;

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
