// One request to an app process and its response, over a pooled connection
// (upstream-pool.ts). What goes on the wire is the protocol's (`Wire`); the
// rest is shared: the response is validated by a strict parser before the
// client sees it, a stale keep-alive connection gets one retry on a fresh
// one, an unread body of small size is finished so the connection can be
// reused, and every failure resolves to one ForwardOutcome.
import type net from 'node:net';
import { PassengerError, isPassengerError } from '../errors/passenger-error.ts';
import type { ForwardOutcome, ForwardTarget } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from '../server/front.ts';
import { BodyPump } from './body-pump.ts';
import { recycleReadBuffer } from './read-buffer-pool.ts';
import { ResponseParser, type ResponseHead, type ResponseSink } from './response-parser.ts';
import { Conn, type ConnUser, type UpstreamPool } from './upstream-pool.ts';

/** What a protocol writes on a connection. */
export interface Wire {
  /** Whether this request leaves the connection open for the next one. */
  keepAlive(pool: UpstreamPool, req: FrontRequest): boolean;
  /**
   * Bodies are framed as in HTTP (Content-Length, or chunks when the length is
   * unknown). Otherwise a request that closes the connection marks the end of
   * its body by closing the connection's write side.
   */
  httpFraming: boolean;
  /** The request head. */
  head(req: FrontRequest, target: ForwardTarget, keepAlive: boolean): Buffer;
}

/**
 * A response may complete before the body was all sent (the app did not read
 * it). Up to this many body bytes still to send, the connection goes on
 * sending them (the app skips them) and is kept; beyond, it is closed.
 */
const FINISH_BODY_LIMIT = 1024 * 1024;

type FailCode = 'PSG_ERR_APP_RESPONSE' | 'PSG_ERR_APP_CONNECT';

export class Exchange implements ResponseSink, ConnUser {
  readonly wire: Wire;
  readonly pool: UpstreamPool;
  readonly target: ForwardTarget;
  readonly req: FrontRequest;
  readonly res: FrontResponse;
  readonly keepAlive: boolean;
  readonly resolve: (o: ForwardOutcome) => void;
  conn!: Conn;
  parser: ResponseParser;
  pump: BodyPump | null = null;
  settled = false;
  /** Whether any byte of the response arrived on the current connection (a reused connection may then not be retried). */
  received = false;
  /** The app asked to close the connection after this response. */
  closeAfter = false;
  retried = false;
  /** The response is complete; the rest of an unread body is still going out. */
  finishing = false;
  /** A body chunk of the current read went to the client (see onData). */
  wrote = false;

  constructor(wire: Wire, pool: UpstreamPool, req: FrontRequest, res: FrontResponse, resolve: (o: ForwardOutcome) => void) {
    this.wire = wire;
    this.pool = pool;
    this.target = pool.target;
    this.req = req;
    this.res = res;
    this.resolve = resolve;
    this.keepAlive = !pool.released && wire.keepAlive(pool, req);
    this.parser = new ResponseParser(this, req.method === 'HEAD');
  }

  start(): void {
    // Gone while the request waited: the app must not get a request nobody will read (nor a body that never ends).
    if (this.res.clientGone) { this.resolve(CLIENT_GONE); return; }
    const pool = this.pool;
    // A request that closes its connection needs one of its own, and the app a free thread for it:
    // an idle connection (whose thread waits for its next head) makes room.
    if (!this.keepAlive && pool.idle.length > 0) pool.dropOneIdle();
    const idle = this.keepAlive ? pool.take() : undefined;
    if (idle) {
      this.conn = idle;
      idle.user = this;
      this.send();
    } else {
      this.conn = new Conn(pool, this);
    }
    this.res.onClose(this.clientGone);
  }

  onConnect(): void { this.send(); }

  send(): void {
    const sock = this.conn.sock;
    const head = this.wire.head(this.req, this.target, this.keepAlive);
    const body = this.req.body;
    const endWrites = !this.keepAlive && !this.wire.httpFraming;
    if (!body) {
      if (endWrites) sock.end(head);
      else sock.write(head);
      return;
    }
    // Corked until the body's first buffered bytes were written: head and a small body in one writev.
    sock.cork();
    sock.write(head);
    const chunked = this.wire.httpFraming && this.req.contentLength === undefined;
    this.pump = new BodyPump(body, sock, { chunked, endSocket: endWrites }, this.bodySettled);
    process.nextTick(uncork, sock);
  }

  // ResponseSink
  head(h: ResponseHead): void {
    if (h.close) this.closeAfter = true;
    if (h.keepAliveTimeoutSec !== undefined) this.pool.idleLimitMs = Math.max(h.keepAliveTimeoutSec * 1000 - 1000, h.keepAliveTimeoutSec * 500);
    this.res.writeHead(h.status, h.reason, h.headers);
  }

  // The chunk is a view of the connection's read buffer, which the next read overwrites.
  body(chunk: Buffer): void {
    const conn = this.conn;
    if (this.res.write(chunk)) {
      // Whether the client side still holds it (queued below its high-water mark: rare) is asked once per read, after the read's last chunk (onData).
      this.wrote = true;
      return;
    }
    // A slow client: no read until it drained (then the chunk went out), or
    // until a response buffer (buffering/response-spool.ts) took over while
    // the client still holds this chunk. net picks the buffer of the next
    // read as soon as this read's callback returns, so the next read goes
    // elsewhere now: into a spare buffer, which a drain that leaves nothing
    // held returns (a fast client's stalls allocate nothing; a fresh buffer
    // at every stall cost 1 MiB downloads half their rate).
    conn.switchReadBuffer();
    conn.sock.pause();
    this.res.onDrain(() => {
      if (conn.user !== this) return;
      if (!this.res.holdsData()) conn.returnLentBuffer();
      conn.sock.resume();
    });
  }

  // ConnUser
  onData(data: Buffer): void {
    if (this.finishing) { this.abandonBody(); return; }
    this.received = true;
    try {
      this.parser.feed(data);
    } catch (e) {
      this.fail('PSG_ERR_APP_RESPONSE', `invalid response from process ${this.target.pid}: ${(e as Error).message}`, false);
      return;
    }
    if (this.parser.done) { this.complete(true); return; }
    // Held by the client side: the next read (which net sets up as soon as this callback returns) goes elsewhere.
    if (this.wrote) {
      this.wrote = false;
      if (!this.settled && this.conn.user === this && this.res.holdsData()) this.conn.releaseReadBuffer();
    }
  }

  onEnd(): void {
    if (this.finishing) { this.abandonBody(); return; }
    if (this.retryable()) { this.retry(); return; }
    try {
      this.parser.end();
    } catch (e) {
      // Closed before any response: the process may have died with the request.
      this.fail('PSG_ERR_APP_RESPONSE', `invalid response from process ${this.target.pid}: ${(e as Error).message}`, !this.parser.headReceived);
      return;
    }
    this.complete(false);
  }

  onError(e: NodeJS.ErrnoException): void {
    if (this.finishing) { this.abandonBody(); return; }
    // The app may answer and close without reading the whole body: that response stands.
    if (this.parser.done) { this.complete(false); return; }
    if (this.retryable()) { this.retry(); return; }
    const connected = this.conn.connected;
    this.fail(connected ? 'PSG_ERR_APP_RESPONSE' : 'PSG_ERR_APP_CONNECT',
      connected ? `process ${this.target.pid} broke the connection (${e.code ?? e.message})` : `cannot connect to process ${this.target.pid} at ${this.target.socket.address} (${e.code ?? e.message})`, true);
  }

  /** Closed without 'end' or 'error' (destroyed): treated as a premature close. */
  onClosed(): void {
    if (!this.settled || this.finishing) this.onEnd();
  }

  /** A reused connection that turned out closed before any response byte: once more on a fresh one, if nothing was consumed. */
  retryable(): boolean {
    return this.conn.reused && !this.retried && !this.received && this.pump === null && !this.settled;
  }

  retry(): void {
    this.retried = true;
    this.conn.discard();
    this.parser = new ResponseParser(this, this.req.method === 'HEAD');
    this.conn = new Conn(this.pool, this);
  }

  complete(responseDone: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.res.end();
    const pump = this.pump;
    // Reusable: the connection was to be kept, the response ended by its framing and did not ask to close.
    const reusable = this.keepAlive && responseDone && !this.closeAfter;
    // The client may still hold the last chunk, a view of the read buffer the next exchange would read into.
    if (reusable && this.res.holdsData()) this.conn.releaseReadBuffer();
    this.recycleWhenFlushed(this.conn.takeHeldBuffers());
    if (reusable && (pump === null || pump.done)) this.conn.park();
    else if (reusable && pump && this.req.contentLength !== undefined && this.req.contentLength - pump.sent <= FINISH_BODY_LIMIT) {
      // The app skips the rest of the body: the session (and the connection) ends with it.
      this.finishing = true;
      return;
    } else {
      pump?.stop();
      this.conn.close();
    }
    this.resolve({ ok: true });
  }

  /** Buffers the client side held go back to the read buffer pool once every write of the response flushed; without that signal, to the GC. */
  recycleWhenFlushed(held: Buffer[]): void {
    if (held.length === 0 || this.res.onFlushed === undefined) return;
    this.res.onFlushed(() => { for (const buffer of held) recycleReadBuffer(buffer); });
  }

  /** The body went out (or broke off): a finishing exchange ends here. */
  readonly bodySettled = (complete: boolean): void => {
    // The client stopped sending the body halfway: the app would wait for the rest forever.
    if (!complete && !this.finishing) {
      // Or a buffered body could not be read back from its file: the client still waits for an answer.
      const e = this.req.body?.errored;
      if (isPassengerError(e) && e.code === 'PSG_ERR_BUFFER_IO') this.finish({ ok: false, processHealthy: true, error: e });
      else this.clientGone();
      return;
    }
    if (!this.finishing) return;
    this.finishing = false;
    if (complete && this.conn.user === this) this.conn.park();
    else this.conn.close();
    this.resolve({ ok: true });
  };

  /** The connection failed while the rest of an unread body was being sent: the response stands. */
  abandonBody(): void {
    this.finishing = false;
    this.pump?.stop();
    this.conn.close();
    this.resolve({ ok: true });
  }

  // `broken`: the connection itself failed (the process may be gone), as opposed to a bad response.
  fail(code: FailCode, why: string, broken: boolean): void {
    if (this.settled) return;
    if (this.res.headersSent) this.res.abort();
    this.finish({ ok: false, processHealthy: !broken, retryable: !this.conn.connected, error: new PassengerError(code, why, { pid: this.target.pid }) });
  }

  finish(outcome: ForwardOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.pump?.stop();
    this.conn.close();
    this.resolve(outcome);
  }

  /** Closing the app's connection ends the request there too (a loader stops reading the body, or fails its next write). */
  readonly clientGone = (): void => {
    if (this.settled) return;
    this.finish(CLIENT_GONE);
  };
}

const CLIENT_GONE: ForwardOutcome = Object.freeze({
  ok: false, processHealthy: true, clientGone: true,
  error: new PassengerError('PSG_ERR_CLIENT_GONE', 'the client went away before the response was complete'),
});

function uncork(sock: net.Socket): void { sock.uncork(); }
