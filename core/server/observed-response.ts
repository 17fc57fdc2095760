// Request events for plugins (requestStarted, requestFinished): a response
// wrapper that notes status, bytes and timings on its way to the client, and
// fires the hooks; it also puts the request's X-Request-Id on the response.
// Built only when a plugin taps one of the two hooks or request_id is on, so
// a server with neither pays one check per request; the wrapper itself is the
// event object (one allocation per request, nothing per chunk).
import type http from 'node:http';
import type { AppSpec } from '../config/app-spec.ts';
import type { ErrorCode } from '../errors/codes.ts';
import type { KernelHooks, RejectionReason, RequestEvent } from '../hooks.ts';
import type { FrontRequest, FrontResponse } from './front.ts';
import { applyTraceContext } from './trace-context.ts';
import { applyRequestId, withRequestId } from './request-id.ts';

const REJECTIONS: Partial<Record<ErrorCode, RejectionReason>> = {
  PSG_ERR_POOL_QUEUE_FULL: 'queue_full',
  PSG_ERR_POOL_QUEUE_TIMEOUT: 'queue_timeout',
  PSG_ERR_HTTP_BODY_TOO_LARGE: 'body_too_large',
  PSG_ERR_REQUEST_TIMEOUT: 'request_timeout',
};

export class ObservedResponse implements FrontResponse, RequestEvent {
  readonly app: AppSpec;
  readonly request: FrontRequest;
  readonly startedAt = performance.now();
  queueMs = -1;
  pid = 0;
  status = 0;
  bytes = 0;
  durationMs = -1;
  rejection: RejectionReason | undefined = undefined;
  aborted = false;
  readonly #inner: FrontResponse;
  readonly #hooks: KernelHooks;

  constructor(hooks: KernelHooks, app: AppSpec, request: FrontRequest, inner: FrontResponse) {
    this.#hooks = hooks;
    this.app = app;
    this.request = request;
    this.#inner = inner;
    hooks.requestStarted.call(this);
  }

  get headersSent(): boolean { return this.#inner.headersSent; }
  get clientGone(): boolean { return this.#inner.clientGone; }
  writeHead(status: number, reason: string, headers: string[]): void {
    this.status = status;
    const id = this.request.requestId;
    this.#inner.writeHead(status, reason, id === undefined ? headers : withRequestId(headers, id));
  }
  write(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    return this.#inner.write(chunk);
  }
  holdsData(): boolean { return this.#inner.holdsData(); }
  onFlushed(cb: () => void): void { this.#inner.onFlushed?.(cb); }
  end(): void {
    this.#inner.end();
    this.#finish(false);
  }
  abort(): void {
    this.#inner.abort();
    this.#finish(true);
  }
  onDrain(cb: () => void): void { this.#inner.onDrain(cb); }
  onClose(cb: () => void): void { this.#inner.onClose(cb); }

  /** The forwarding path is done with the request: a response that never ended was cut off. */
  settle(): void {
    if (this.durationMs < 0) this.#finish(true);
  }

  #finish(aborted: boolean): void {
    if (this.durationMs >= 0) return;
    this.durationMs = performance.now() - this.startedAt;
    this.aborted = aborted;
    this.#hooks.requestFinished.call(this);
  }
}

/**
 * The response the forwarding path writes to: the client's own, or an
 * ObservedResponse when a plugin listens. Also applies trace_context, which
 * must happen before any protocol sends the headers on.
 */
export function observe(hooks: KernelHooks, app: AppSpec, req: FrontRequest, res: FrontResponse): FrontResponse {
  if (res instanceof ObservedResponse) return res;
  if (app.options.trace_context === true && req.traceId === undefined) applyTraceContext(req);
  if (app.options.request_id !== false && req.requestId === undefined) applyRequestId(req);
  if (req.requestId === undefined && !hooks.requestStarted.isUsed() && !hooks.requestFinished.isUsed()) return res;
  return new ObservedResponse(hooks, app, req, res);
}

/** A session was checked out: the request stopped waiting for a process (`pid`). */
export function noteCheckout(res: FrontResponse, pid = 0): void {
  if (res instanceof ObservedResponse) {
    res.queueMs = performance.now() - res.startedAt;
    res.pid = pid;
  }
}

/** The server answers with an error: remember when that is a refusal. */
export function noteError(res: FrontResponse, code: ErrorCode | undefined): void {
  if (res instanceof ObservedResponse && code !== undefined) res.rejection ??= REJECTIONS[code];
}

/** The forwarding path is done with the request. */
export function settle(res: FrontResponse): void {
  if (res instanceof ObservedResponse) res.settle();
}

/** A request the front end answered itself (a static file, a redirect to HTTPS), as an event. */
class AnsweredEvent implements RequestEvent {
  readonly queueMs = -1;
  readonly pid = 0;
  readonly rejection = undefined;
  status = 0;
  bytes = 0;
  durationMs = -1;
  aborted = false;
  readonly app: AppSpec;
  readonly request: FrontRequest;
  readonly startedAt: number;
  constructor(app: AppSpec, request: FrontRequest, startedAt: number) {
    this.app = app;
    this.request = request;
    this.startedAt = startedAt;
  }
}

/**
 * The same request events for a response the front end wrote with node's own
 * response object. Bytes are the body's Content-Length (what static files
 * send; a HEAD or a 304 sends none), or 0 when it had none.
 */
export function observeAnswered(hooks: KernelHooks, app: AppSpec, req: FrontRequest, res: http.ServerResponse, startedAt: number): void {
  if (!hooks.requestStarted.isUsed() && !hooks.requestFinished.isUsed()) return;
  const e = new AnsweredEvent(app, req, startedAt);
  hooks.requestStarted.call(e);
  res.once('close', () => {
    e.status = res.headersSent ? res.statusCode : 0;
    const length = Number(res.getHeader('content-length') ?? 0);
    e.bytes = req.method === 'HEAD' || e.status === 304 || !Number.isFinite(length) ? 0 : length;
    e.aborted = !res.writableFinished;
    e.durationMs = performance.now() - startedAt;
    hooks.requestFinished.call(e);
  });
}

/** The same events for a reply written whole at once (a static file from memory on the lean engine). */
export function observeReplied(hooks: KernelHooks, app: AppSpec, req: FrontRequest, status: number, bytes: number, aborted: boolean, startedAt: number): void {
  if (!hooks.requestStarted.isUsed() && !hooks.requestFinished.isUsed()) return;
  const e = new AnsweredEvent(app, req, startedAt);
  hooks.requestStarted.call(e);
  e.status = status;
  e.bytes = bytes;
  e.aborted = aborted;
  e.durationMs = performance.now() - startedAt;
  hooks.requestFinished.call(e);
}
