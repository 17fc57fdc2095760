// One plain-HTTP connection served by the lean engine: requests in the
// plainest form (lean-head.ts), one at a time, kept alive as node's server
// keeps them (5 s idle, client_header_timeout for a head, or a small body,
// that does not arrive in full). A request with a small body is read whole
// before it is served; a larger body is streamed (pooled-body.ts), and what
// the app leaves unread is read and dropped after the answer (a lingering
// close) so the connection stays in step. The first request it declines,
// and everything after it on the connection, goes to node's HTTP server
// (handOver), which reads the bytes from where this left off: chunked
// bodies, upgrades, malformed requests and their refusals stay node's.
import type { Socket } from 'node:net';
import { DECLINE, INCOMPLETE, MAX_LEAN_BODY, parseLeanHead, type LeanHead } from './lean-head.ts';
import { LeanFrontResponse, type LeanExchangeOwner } from './lean-response.ts';
import { LINGER_MS, type DrainState } from './node-front-response.ts';
import { PooledBody } from '../pooled-body.ts';
import { copyOut, readIntoSharedBuffer, readIntoStream } from '../shared-read-buffer.ts';

/** How long an idle kept-alive connection stays open (the engine gives node:http the same keepAliveTimeout). */
export const KEEP_ALIVE_MS = 5_000;
/** Pipelined bytes held while a response is in flight before reading pauses. */
const MAX_BUFFERED = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export interface LeanHost {
  readonly drain: DrainState;
  /** client_header_timeout in ms; 0: none. */
  readonly headerTimeoutMs: number;
  /**
   * Serves a request with its whole body (a Buffer; empty: none) or the
   * stream of a larger one (its length is the head's contentLength); false:
   * declined, nothing written or read (node takes the connection, this request first).
   */
  serve(head: LeanHead, body: Buffer | PooledBody, socket: Socket, res: LeanFrontResponse): boolean;
  /** node's HTTP server takes the connection over; `unread` are the bytes it must parse first. */
  handOver(socket: Socket, unread: Buffer): void;
  /** No complete request within client_header_timeout: the host answers 408 and closes; `bodyPending`: the head came, its body did not. */
  headerTimedOut(socket: Socket, bodyPending: boolean): void;
  /** The connection is no longer this engine's (closed, or handed over). */
  forget(conn: LeanConnection): void;
}

export class LeanConnection implements LeanExchangeOwner {
  readonly socket: Socket;
  readonly #host: LeanHost;
  /** Bytes received and not yet served: the start of the next request. */
  #unread: Buffer | undefined;
  #current: LeanFrontResponse | undefined;
  #timer: NodeJS.Timeout | undefined;
  #waitingForHead = false;
  /** The head of the request waiting for the rest of its body. */
  #bodyPending = false;
  /** The streamed body of the request in flight, while bytes of it are still to come. */
  #body: PooledBody | undefined;
  #bodyLeft = 0;
  /** The response ended before its body was all here: the rest is read (and dropped if nobody takes it) first. */
  #lingering = false;
  #keepAliveAfterLinger = false;
  /** Handed over, closing, or closed: nothing more is served here. */
  #done = false;

  constructor(socket: Socket, host: LeanHost) {
    this.socket = socket;
    this.#host = host;
    // Reads come straight here (shared-read-buffer.ts); where that is not possible, as 'data'.
    if (readIntoSharedBuffer(socket, this.#onData)) socket.resume();
    else socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
    // As node does: a connection that sends no complete head in time gets 408, even one that sends nothing.
    this.#armHeadTimer();
  }

  /** A stop: an idle connection (no response in flight, no request begun) closes now. */
  closeIfIdle(): void {
    if (this.#current === undefined && this.#unread === undefined && this.#bodyLeft === 0) this.socket.destroy();
  }

  /** `view` is only valid during the call (shared-read-buffer.ts): what is kept is copied. */
  readonly #onData = (view: Buffer): void => {
    if (this.#done) return;
    let rest = view;
    if (this.#bodyLeft > 0) {
      rest = this.#feedBody(view);
      if (this.#bodyLeft === 0 && this.#lingering) {
        if (rest.length > 0) this.#unread = copyOut(rest, rest.length);
        this.#endLinger();
        return;
      }
      if (rest.length === 0) return;
    }
    this.#unread = this.#unread ? Buffer.concat([this.#unread, rest]) : copyOut(rest, rest.length);
    if (this.#current) {
      // Pipelined behind the response in flight: held, and reading pauses if the client sends a lot.
      if (this.#unread.length > MAX_BUFFERED) this.socket.pause();
      return;
    }
    this.#next();
  };

  /** Serves the requests buffered so far, one at a time. */
  #next(): void {
    while (!this.#done && this.#current === undefined && this.#unread !== undefined) {
      const buf = this.#unread;
      const head = parseLeanHead(buf, 0);
      if (head === DECLINE) { this.#handOver(buf); return; }
      const streamed = head !== INCOMPLETE && head.contentLength > MAX_LEAN_BODY;
      // The request is served once all of it is here (a streamed body: its head); the head is parsed again then (seldom: most come in one read).
      const end = head === INCOMPLETE ? -1 : streamed ? head.end : head.end + head.contentLength;
      if (head === INCOMPLETE || buf.length < end) {
        this.#bodyPending = head !== INCOMPLETE;
        if (!this.#waitingForHead) this.#armHeadTimer();
        return;
      }
      this.#clearTimer();
      const res = new LeanFrontResponse(this.socket, this, this.#host.drain, { head: head.method === 'HEAD', http10: head.httpVersionMinor === 0, keepAlive: head.keepAlive });
      this.#current = res;
      this.#unread = end < buf.length ? buf.subarray(end) : undefined;
      const body = streamed ? new PooledBody(this.#wantMore) : buf.subarray(head.end, end);
      // Before serve(): an answer given at once (a 413) must find the body still to come.
      if (body instanceof PooledBody) {
        this.#body = body;
        this.#bodyLeft = head.contentLength;
      }
      if (!this.#host.serve(head, body, this.socket, res)) {
        this.#current = undefined;
        this.#body = undefined;
        this.#bodyLeft = 0;
        this.#handOver(buf);
        return;
      }
      if (body instanceof PooledBody) {
        // The body's first bytes came with the head.
        const first = this.#unread;
        this.#unread = undefined;
        if (first !== undefined) {
          const rest = this.#feedBody(first);
          if (rest.length > 0) this.#unread = rest;
          // Answered at once, and the whole body came with the head.
          if (this.#bodyLeft === 0 && this.#lingering) this.#endLinger();
        }
      }
    }
  }

  /** Gives the streamed body its part of `bytes` (copied); returns what follows the body: the next request. */
  #feedBody(bytes: Buffer): Buffer {
    const body = this.#body!;
    const take = Math.min(bytes.length, this.#bodyLeft);
    this.#bodyLeft -= take;
    const more = body.pushCopy(take === bytes.length ? bytes : bytes.subarray(0, take));
    if (this.#bodyLeft === 0) {
      this.#body = undefined;
      body.push(null);
    } else if (!more && !this.#lingering) this.socket.pause();
    return take === bytes.length ? EMPTY : bytes.subarray(take);
  }

  /** The body's reader caught up. */
  readonly #wantMore = (): void => {
    if (this.#bodyLeft > 0 && !this.#done && this.socket.isPaused()) this.socket.resume();
  };

  responseEnded(keepAlive: boolean): void {
    this.#current = undefined;
    if (this.#done) return;
    if (this.#bodyLeft > 0) this.#linger(keepAlive);
    else this.#afterResponse(keepAlive);
  }

  /**
   * The app answered before the body was all here (a 413, an upload it
   * refused). Closing now, with the client still sending, would reset the
   * connection and could lose the answer; and a kept-alive connection must
   * not read the rest of the body as the next request. So the rest is read,
   * for at most LINGER_MS. A reader that still takes it (the app's
   * connection skipping the rest, exchange.ts) gets it without
   * backpressure, which it only does for a small rest; without one it is dropped.
   */
  #linger(keepAlive: boolean): void {
    this.#lingering = true;
    this.#keepAliveAfterLinger = keepAlive;
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.socket.destroy();
    }, LINGER_MS);
    this.#timer.unref();
    if (this.socket.isPaused()) this.socket.resume();
    // The response ends before its exchange lets go of the body (same tick).
    process.nextTick(LeanConnection.#dropIfUnread, this);
  }

  static #dropIfUnread(self: LeanConnection): void {
    const body = self.#body;
    if (body !== undefined && body.listenerCount('data') === 0) body.resume();
  }

  #endLinger(): void {
    this.#lingering = false;
    this.#clearTimer();
    this.#afterResponse(this.#keepAliveAfterLinger);
  }

  #afterResponse(keepAlive: boolean): void {
    if (!keepAlive) {
      // The last response: the connection ends once it is written; whatever else the client sent is dropped.
      this.#finish();
      this.socket.destroySoon();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    // The forwarding path finishes its request first; a pipelined next one starts after it.
    if (this.#unread !== undefined) process.nextTick(LeanConnection.#continue, this);
    else this.#armIdleTimer();
  }

  static #continue(self: LeanConnection): void { self.#next(); }

  #handOver(unread: Buffer): void {
    this.#finish();
    this.#unread = undefined;
    const socket = this.socket;
    socket.off('data', this.#onData);
    readIntoStream(socket);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    if (socket.isPaused()) socket.resume();
    this.#host.handOver(socket, unread.length > 0 ? unread : EMPTY);
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#clearTimer();
    this.#host.forget(this);
  }

  #armHeadTimer(): void {
    this.#clearTimer();
    const ms = this.#host.headerTimeoutMs;
    if (ms <= 0) return;
    this.#waitingForHead = true;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#done || this.#current) return;
      this.#finish();
      this.#host.headerTimedOut(this.socket, this.#bodyPending);
    }, ms);
    this.#timer.unref();
  }

  #armIdleTimer(): void {
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#done && this.#current === undefined && this.#unread === undefined) this.socket.destroy();
    }, KEEP_ALIVE_MS);
    this.#timer.unref();
  }

  #clearTimer(): void {
    this.#waitingForHead = false;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * The client closed its side. As with node:http (whose httpAllowHalfOpen is
   * off), that ends the connection, and a request in flight learns that its
   * client went away: a long poll or a stream stops there.
   */
  readonly #onEnd = (): void => {
    this.socket.destroy();
  };

  /** A reset or a failed write: the socket closes next ('close'). */
  readonly #onError = (): void => {
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#finish();
    const current = this.#current;
    this.#current = undefined;
    current?.socketClosed();
    // Cut off in the middle of a streamed body: its reader learns it from 'close' without 'end'.
    const body = this.#body;
    this.#body = undefined;
    this.#bodyLeft = 0;
    body?.destroy();
  };
}
