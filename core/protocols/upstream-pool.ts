// Connections from the core to one app process, kept open between requests
// where the protocol allows it. Shared by `session` and `http_session`: they
// differ in what they write on a connection, not in how connections are kept.
// Each connection reads into a buffer of its own that is reused from read to
// read (net's `onread`): no allocation per response, and no garbage from the
// 64 KiB buffer node would otherwise allocate for every read (under large
// responses that garbage, waiting for a GC, held ~30 MiB of the core's RSS).
import net from 'node:net';
import type { ForwardTarget } from '../registries/protocols.ts';
import { connectOptions } from '../spawn/socket-address.ts';
import { recycleReadBuffer, takeReadBuffer } from './read-buffer-pool.ts';

/** Whoever uses a connection (one request at a time) gets its socket events. */
export interface ConnUser {
  onConnect(): void;
  /**
   * `data` is a view of the connection's read buffer, valid during the call
   * only: a user that lets a write keep it calls `conn.releaseReadBuffer()`
   * before returning (net takes the next read's buffer right after; a later
   * call only moves the read after that).
   */
  onData(data: Buffer): void;
  onEnd(): void;
  onError(e: NodeJS.ErrnoException): void;
  onClosed(): void;
}

/** Per process: its idle connections (newest last) and where to connect. */
export class UpstreamPool {
  readonly target: ForwardTarget;
  readonly connect: net.NetConnectOpts;
  /** At most this many idle connections (the process's concurrency: idle + in use never exceeds it). */
  readonly maxIdle: number;
  readonly idle: Conn[] = [];
  released = false;
  /** Idle connections older than this may have been closed by the app (its announced keep-alive timeout). */
  idleLimitMs = Infinity;

  constructor(target: ForwardTarget) {
    this.target = target;
    this.connect = connectOptions(target.socket.address) as net.NetConnectOpts;
    const conc = target.socket.concurrency;
    this.maxIdle = conc === 0 ? 256 : conc;
  }

  /** The newest idle connection that is still fresh; expired ones are closed on the way. */
  take(): Conn | undefined {
    const idle = this.idle;
    let conn = idle.pop();
    if (conn && this.idleLimitMs !== Infinity) {
      const oldest = performance.now() - this.idleLimitMs;
      while (conn && conn.parkedAt < oldest) {
        conn.sock.destroy();
        conn = idle.pop();
      }
    }
    return conn;
  }

  /** Makes room for a request that needs a connection (and a loader thread) of its own. */
  dropOneIdle(): void {
    this.idle.pop()?.discard();
  }

  /** Closes the idle connections; busy ones close after their response. */
  release(): void {
    this.released = true;
    for (const conn of this.idle.splice(0)) conn.sock.destroy();
  }
}

const pools = new WeakMap<ForwardTarget, UpstreamPool>();

export function upstreamPool(target: ForwardTarget): UpstreamPool {
  let pool = pools.get(target);
  if (!pool) {
    pool = new UpstreamPool(target);
    pools.set(target, pool);
  }
  return pool;
}

export function releaseUpstreamPool(target: ForwardTarget): void {
  pools.get(target)?.release();
}

/** Read buffer sizes: small for the usual response, large while a read fills the small one (a large body streams). */
const SMALL_READ = 16 * 1024;
const LARGE_READ = 64 * 1024;

/**
 * One connection to a process. Its listeners are set once and pass events to
 * the user it currently serves; while idle, any event ends it.
 */
export class Conn {
  readonly sock: net.Socket;
  readonly pool: UpstreamPool;
  user: ConnUser | null;
  connected = false;
  /** A response was completed on it before: it may have been closed meanwhile. */
  reused = false;
  parkedAt = 0;
  /** Where the next read goes (net asks for it after every read). */
  #readBuffer: Buffer<ArrayBufferLike> = takeReadBuffer(SMALL_READ);
  /** The buffer the last stall moved reads away from: the client side may still hold bytes of it. */
  #lent: Buffer<ArrayBufferLike> | undefined;
  /** A buffer known to be free, for the next stall (so that stalls of a fast client allocate nothing). */
  #spare: Buffer<ArrayBufferLike> | undefined;
  /** Buffers the client side may still hold bytes of (released, or lent and not returned), until the response's writes flushed. */
  #held: Buffer<ArrayBufferLike>[] = [];
  /** Closed by its user: the last read's bytes may still be queued for a client, so no buffer of it is recycled. */
  #closed = false;

  constructor(pool: UpstreamPool, user: ConnUser) {
    this.pool = pool;
    this.user = user;
    this.sock = net.connect({ ...pool.connect, onread: { buffer: this.#nextReadBuffer, callback: this.#onRead } });
    this.sock.on('connect', () => {
      this.connected = true;
      this.sock.setNoDelay(true);
      this.user?.onConnect();
    });
    this.sock.on('end', () => { if (this.user) this.user.onEnd(); else this.discard(); });
    this.sock.on('error', (e: NodeJS.ErrnoException) => { if (this.user) this.user.onError(e); else this.discard(); });
    this.sock.on('close', () => { if (this.user) this.user.onClosed(); else this.discard(); });
  }

  readonly #nextReadBuffer = (): Buffer => this.#readBuffer;

  readonly #onRead = (size: number, buffer: Uint8Array): boolean => {
    const read = buffer as Buffer;
    if (this.user) this.user.onData(read.subarray(0, size));
    else this.discard();
    // Grow while reads fill the buffer, shrink back after: only connections that carry large bodies hold large buffers.
    // (Also when the read moved to another buffer meanwhile: a stall is often a full read, and its growth must not be lost.)
    const wanted = size === read.length && size < LARGE_READ ? LARGE_READ : size < SMALL_READ && read.length > SMALL_READ ? SMALL_READ : read.length;
    const current = this.#readBuffer;
    if (current.length !== wanted) {
      this.#readBuffer = takeReadBuffer(wanted);
      // Free: either a buffer the user moved the reads to (nothing was read into it yet), or the read's own, whose
      // bytes the user did not keep (else it had moved the reads elsewhere), unless it closed the connection meanwhile.
      if (current !== read || !this.#closed) recycleReadBuffer(current);
    }
    return true;
  };

  /** The last read's bytes are still referenced (a write queued them): the next read goes into other memory. Only in effect when called from onData. */
  releaseReadBuffer(): void {
    this.#held.push(this.#readBuffer);
    this.#readBuffer = takeReadBuffer(this.#readBuffer.length);
  }

  /**
   * A stall of the client side, whose queue holds the last read's bytes:
   * the next read goes into the spare buffer (or fresh memory), and the one
   * left is lent until returnLentBuffer(). Only in effect when called from onData.
   */
  switchReadBuffer(): void {
    const held = this.#readBuffer;
    const spare = this.#spare;
    this.#readBuffer = spare !== undefined && spare.length === held.length ? spare : takeReadBuffer(held.length);
    if (spare !== undefined && spare !== this.#readBuffer) recycleReadBuffer(spare);
    this.#spare = undefined;
    if (this.#lent !== undefined) this.#held.push(this.#lent);
    this.#lent = held;
  }

  /** Everything written from the lent buffer went out: it becomes the spare. */
  returnLentBuffer(): void {
    if (this.#lent === undefined) return;
    this.#spare = this.#lent;
    this.#lent = undefined;
  }

  /**
   * The buffers the current response's client side may still hold bytes of,
   * handed to the caller (who recycles them once those writes flushed); the
   * connection forgets them.
   */
  takeHeldBuffers(): Buffer<ArrayBufferLike>[] {
    if (this.#lent !== undefined) this.#held.push(this.#lent);
    this.#lent = undefined;
    const held = this.#held;
    if (held.length > 0) this.#held = [];
    return held;
  }

  /** Closes it and forgets it (idle connections the process closed, or that sent unexpected bytes). */
  discard(): void {
    this.user = null;
    this.#closed = true;
    const i = this.pool.idle.lastIndexOf(this);
    if (i >= 0) this.pool.idle.splice(i, 1);
    this.sock.destroy();
  }

  /** Closed for good by its user. */
  close(): void {
    this.user = null;
    this.#closed = true;
    this.sock.destroy();
  }

  /** Back to the idle stack after a complete response, or closed if it cannot be reused. */
  park(): void {
    this.user = null;
    // An idle connection keeps one buffer; the spare is free, the lent one may still be queued for the client.
    if (this.#spare !== undefined) recycleReadBuffer(this.#spare);
    this.#spare = undefined;
    this.#lent = undefined;
    this.#held = [];
    const pool = this.pool;
    if (pool.released || this.sock.destroyed || this.sock.readableEnded || !this.sock.writable || pool.idle.length >= pool.maxIdle) {
      this.sock.destroy();
      return;
    }
    this.reused = true;
    this.parkedAt = performance.now();
    // Paused for a slow client of the previous response: the next one starts reading afresh.
    if (this.sock.isPaused()) this.sock.resume();
    pool.idle.push(this);
  }
}
