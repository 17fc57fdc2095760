// The `session` protocol (docs/protocols.md section 2): Unix-socket connections
// carrying a binary CGI head, the body, and an HTTP/1.1 response that is
// validated before anything reaches the client. Loaders that report the
// `keepalive` socket flag get PASSENGER_KEEP_ALIVE on requests of known body
// length, and their connections are reused (at most `concurrency` per process,
// idle ones kept LIFO); the others get one connection per request.
import net from 'node:net';
import { PassengerError } from '../errors/passenger-error.ts';
import type { ForwardOutcome, ForwardTarget, Protocol } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from '../server/front.ts';
import { connectOptions } from '../spawn/socket-address.ts';
import { encodeSessionHead } from './cgi-vars.ts';
import { ResponseParser, type ResponseHead, type ResponseSink } from './response-parser.ts';

/** Per process: its idle connections (newest last) and where to connect. */
interface ConnPool {
  readonly target: ForwardTarget;
  readonly keepAlive: boolean;
  readonly connect: net.NetConnectOpts;
  /** At most this many idle connections (the process's concurrency; idle + in use never exceeds it). */
  readonly maxIdle: number;
  readonly idle: Conn[];
  released: boolean;
}

const pools = new WeakMap<ForwardTarget, ConnPool>();

/**
 * A response may complete before the body was all sent (the app did not read
 * it). Up to this many body bytes still to send, the connection goes on
 * sending them (the loader skips them) and is kept; beyond, it is closed.
 */
const FINISH_BODY_LIMIT = 1024 * 1024;

function poolFor(target: ForwardTarget): ConnPool {
  let pool = pools.get(target);
  if (!pool) {
    const conc = target.socket.concurrency;
    pool = {
      target,
      keepAlive: target.socket.keepAlive === true,
      connect: connectOptions(target.socket.address) as net.NetConnectOpts,
      maxIdle: conc === 0 ? 256 : conc,
      idle: [],
      released: false,
    };
    pools.set(target, pool);
  }
  return pool;
}

/**
 * One connection to a loader. Its listeners are set once and pass events to
 * the exchange (request) it currently carries; while idle, any event ends it.
 */
class Conn {
  readonly sock: net.Socket;
  readonly pool: ConnPool;
  ex: Exchange | null = null;
  connected = false;
  /** A response was completed on it before: it may have been closed meanwhile. */
  reused = false;

  constructor(pool: ConnPool) {
    this.pool = pool;
    this.sock = net.connect(pool.connect);
    this.sock.on('connect', () => {
      this.connected = true;
      this.sock.setNoDelay(true);
      this.ex?.send();
    });
    this.sock.on('data', (data: Buffer) => { if (this.ex) this.ex.onData(data); else this.discard(); });
    this.sock.on('end', () => { if (this.ex) this.ex.onEnd(); else this.discard(); });
    this.sock.on('error', (e: NodeJS.ErrnoException) => { if (this.ex) this.ex.onError(e); else this.discard(); });
    this.sock.on('close', () => { if (this.ex) this.ex.onClosed(); else this.discard(); });
  }

  /** Closes it and forgets it (idle connections the loader closed, or that sent unexpected bytes). */
  discard(): void {
    this.ex = null;
    const i = this.pool.idle.lastIndexOf(this);
    if (i >= 0) this.pool.idle.splice(i, 1);
    this.sock.destroy();
  }

  /** Back to the idle stack after a complete response, or closed if it cannot be reused. */
  park(): void {
    this.ex = null;
    const pool = this.pool;
    if (pool.released || this.sock.destroyed || this.sock.readableEnded || !this.sock.writable || pool.idle.length >= pool.maxIdle) {
      this.sock.destroy();
      return;
    }
    this.reused = true;
    // Paused for a slow client of the previous response: the next one starts reading afresh.
    if (this.sock.isPaused()) this.sock.resume();
    pool.idle.push(this);
  }
}

type FailCode = 'PSG_ERR_APP_RESPONSE' | 'PSG_ERR_APP_CONNECT';

/** One request on one connection (or two, after a retry on a fresh one). */
class Exchange implements ResponseSink {
  readonly target: ForwardTarget;
  readonly pool: ConnPool;
  readonly req: FrontRequest;
  readonly res: FrontResponse;
  readonly keepAlive: boolean;
  readonly resolve: (o: ForwardOutcome) => void;
  conn!: Conn;
  parser: ResponseParser;
  settled = false;
  /** Bytes of the response seen on the current connection. */
  received = false;
  /** The body started flowing into a connection: no retry after that. */
  bodyPiped = false;
  retried = false;

  constructor(target: ForwardTarget, pool: ConnPool, req: FrontRequest, res: FrontResponse, resolve: (o: ForwardOutcome) => void) {
    this.target = target;
    this.pool = pool;
    this.req = req;
    this.res = res;
    this.resolve = resolve;
    // Only a request of known length can be followed by another on the same connection.
    this.keepAlive = pool.keepAlive && !pool.released && (req.body === null || req.contentLength !== undefined);
    this.parser = new ResponseParser(this, req.method === 'HEAD');
  }

  start(): void {
    const pool = this.pool;
    // A request of unknown length needs a connection of its own, and the loader a free thread for it:
    // an idle connection (whose thread waits for its next head) makes room.
    if (!this.keepAlive && pool.idle.length > 0) pool.idle.pop()!.discard();
    const idle = this.keepAlive ? pool.idle.pop() : undefined;
    if (idle) {
      this.conn = idle;
      idle.ex = this;
      this.send();
    } else {
      this.conn = new Conn(this.pool);
      this.conn.ex = this;
    }
    this.res.onClose(this.clientGone);
  }

  send(): void {
    const sock = this.conn.sock;
    const head = encodeSessionHead(this.req, this.target.connectPassword, this.target.baseUri, this.keepAlive);
    const body = this.req.body;
    if (!body) {
      if (this.keepAlive) sock.write(head);
      else sock.end(head);
      return;
    }
    this.bodyPiped = true;
    this.headBytes = sock.bytesWritten + head.length;
    // Corked until the body's first buffered bytes were written: head and a small body in one writev.
    sock.cork();
    sock.write(head);
    body.pipe(sock, { end: !this.keepAlive });
    process.nextTick(uncork, sock);
  }

  // ResponseSink
  head(h: ResponseHead): void { this.res.writeHead(h.status, h.reason, h.headers); }
  body(chunk: Buffer): void {
    if (!this.res.write(chunk)) {
      const sock = this.conn.sock;
      sock.pause();
      this.res.onDrain(() => sock.resume());
    }
  }

  onData(data: Buffer): void {
    if (this.finishing) { this.abandonBody(); return; }
    this.received = true;
    try {
      this.parser.feed(data);
    } catch (e) {
      this.fail('PSG_ERR_APP_RESPONSE', `invalid response from process ${this.target.pid}: ${(e as Error).message}`, false);
      return;
    }
    if (this.parser.done) this.complete(true);
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
    return this.conn.reused && !this.retried && !this.received && !this.bodyPiped && !this.settled;
  }

  retry(): void {
    this.retried = true;
    this.conn.discard();
    this.parser = new ResponseParser(this, this.req.method === 'HEAD');
    this.conn = new Conn(this.pool);
    this.conn.ex = this;
  }

  complete(responseDone: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.res.end();
    const conn = this.conn;
    const body = this.req.body;
    // Reusable: the loader was asked to keep it, the response ended by its framing, and the whole body was handed to the socket.
    if (this.keepAlive && responseDone && (body === null || body.readableEnded)) conn.park();
    else if (this.keepAlive && responseDone && body && this.req.contentLength! - this.bodyBytesSent() <= FINISH_BODY_LIMIT) {
      // The loader thread stays busy skipping the rest: the session (and the connection) ends with the body.
      this.finishing = true;
      body.once('end', this.bodySent);
      body.once('close', this.bodySent);
      return;
    } else { conn.ex = null; conn.sock.destroy(); }
    this.resolve({ ok: true });
  }

  /** How much of the body went into the current connection (after the head). */
  bodyBytesSent(): number {
    return this.conn.sock.bytesWritten - this.headBytes;
  }

  finishing = false;
  headBytes = 0;

  /** The rest of a body the app did not read was sent: the connection can carry the next request. */
  readonly bodySent = (): void => {
    if (!this.finishing) return;
    this.finishing = false;
    const body = this.req.body!;
    body.off('end', this.bodySent);
    body.off('close', this.bodySent);
    if (body.readableEnded && this.conn.ex === this) this.conn.park();
    else { this.conn.ex = null; this.conn.sock.destroy(); }
    this.resolve({ ok: true });
  };

  /** The connection failed while the rest of an unread body was being sent: the response stands. */
  abandonBody(): void {
    this.finishing = false;
    this.req.body?.unpipe(this.conn.sock);
    this.conn.ex = null;
    this.conn.sock.destroy();
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
    this.conn.ex = null;
    this.conn.sock.destroy();
    this.resolve(outcome);
  }

  readonly clientGone = (): void => {
    if (this.settled) return;
    this.req.body?.unpipe(this.conn.sock);
    this.finish({ ok: false, processHealthy: true, error: new PassengerError('PSG_ERR_APP_RESPONSE', 'the client went away before the response was complete') });
  };
}

function uncork(sock: net.Socket): void { sock.uncork(); }

function forward(target: ForwardTarget, req: FrontRequest, res: FrontResponse): Promise<ForwardOutcome> {
  return new Promise((resolve) => new Exchange(target, poolFor(target), req, res, resolve).start());
}

/** Closes the idle connections of a process that goes away (or is told to shut down); busy ones close after their response. */
function release(target: ForwardTarget): void {
  const pool = pools.get(target);
  if (!pool) return;
  pool.released = true;
  for (const conn of pool.idle.splice(0)) conn.sock.destroy();
}

export const sessionProtocol: Protocol = { name: 'session', forward, release };
