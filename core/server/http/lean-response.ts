// The FrontResponse of the lean engine: the response head written as one
// string, the framing node's ServerResponse would choose (Content-Length as
// given, else chunked on HTTP/1.1, else the end of the connection), its Date
// and Connection headers, and the head held back only until the end of the
// tick in case a body chunk joins it. The connection (lean-connection.ts)
// learns when the response ended and whether the connection stays open.
import type { Socket } from 'node:net';
import type { FrontResponse } from '../front.ts';
import type { DrainState } from './node-front-response.ts';
import { HTTP_TOKEN } from '../../util/http-token.ts';

/** node's own header value check (ServerResponse.writeHead throws on these; names must be tokens). */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** The Date header's value, made once per second as node does. */
let dateSecond = -1;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateValue = new Date(now).toUTCString();
  }
  return dateValue;
}

const EMPTY = Buffer.alloc(0);
const LAST_CHUNK = '0\r\n\r\n';

export interface LeanExchangeOwner {
  /** The response ended; `keepAlive`: the connection may carry the next request. */
  responseEnded(keepAlive: boolean): void;
}

export class LeanFrontResponse implements FrontResponse {
  readonly #socket: Socket;
  readonly #owner: LeanExchangeOwner;
  readonly #drain: DrainState;
  readonly #noBody: boolean;
  readonly #http10: boolean;
  #keepAlive: boolean;
  /** The head, until it goes out with the first body bytes or at the end of the tick. */
  #pendingHead: string | undefined;
  #headersSent = false;
  #chunked = false;
  #bodiless = false;
  #ended = false;
  #gone = false;
  #uncorkScheduled = false;
  #closeCallbacks: (() => void)[] | undefined;
  #flushCallbacks: (() => void)[] | undefined;
  #flushed = false;

  constructor(socket: Socket, owner: LeanExchangeOwner, drain: DrainState, opts: { head: boolean; http10: boolean; keepAlive: boolean }) {
    this.#socket = socket;
    this.#owner = owner;
    this.#drain = drain;
    this.#noBody = opts.head;
    this.#http10 = opts.http10;
    this.#keepAlive = opts.keepAlive;
  }

  get headersSent(): boolean { return this.#headersSent; }
  get clientGone(): boolean { return this.#gone; }

  writeHead(status: number, reason: string, headers: string[]): void {
    if (this.#headersSent) throw new Error('the response head was already written');
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    let length = false;
    let date = false;
    let connection = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (!HTTP_TOKEN.test(name)) throw new TypeError(`invalid response header name "${name.slice(0, 80)}"`);
      if (INVALID_VALUE.test(value)) throw new TypeError(`invalid character in the value of response header "${name}"`);
      if (name.length === 14 && name.toLowerCase() === 'content-length') length = true;
      else if (name.length === 4 && name.toLowerCase() === 'date') date = true;
      // Our own error answers close some connections (408, 413): as with node, the header stands and ends the connection.
      else if (name.length === 10 && name.toLowerCase() === 'connection') {
        connection = true;
        if (value.toLowerCase().includes('close')) this.#keepAlive = false;
      }
      head += `${name}: ${value}\r\n`;
    }
    if (!date) head += `Date: ${httpDate()}\r\n`;
    this.#bodiless = this.#noBody || status === 204 || status === 304 || status < 200;
    // Without a length, HTTP/1.1 gets chunks and HTTP/1.0 a body that ends with the connection.
    if (!this.#bodiless && !length) {
      if (this.#http10) this.#keepAlive = false;
      else { this.#chunked = true; head += 'Transfer-Encoding: chunked\r\n'; }
    }
    // Stopping: this response is the connection's last, so no idle keep-alive connection is cut later.
    if (this.#drain.closing) this.#keepAlive = false;
    if (!connection) head += this.#keepAlive ? 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n' : 'Connection: close\r\n';
    head += '\r\n';
    this.#headersSent = true;
    this.#pendingHead = head;
    // A stream that starts later (long polls, server-sent events) gets its head at the end of this tick.
    this.#corkForTick();
  }

  write(chunk: Buffer): boolean {
    if (this.#ended || this.#gone) return false;
    const socket = this.#socket;
    this.#corkForTick();
    this.#flushHead();
    if (this.#bodiless || chunk.length === 0) return !socket.writableNeedDrain;
    if (this.#chunked) {
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      return socket.write('\r\n', 'latin1');
    }
    return socket.write(chunk);
  }

  /**
   * Whether written bytes are still queued here: the connection is uncorked
   * first (what this tick queued goes out in one writev), and only what the
   * kernel did not take counts.
   */
  holdsData(): boolean {
    const socket = this.#socket;
    while (socket.writableCorked > 0) socket.uncork();
    return socket.writableLength > 0;
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#gone) return;
    const socket = this.#socket;
    this.#corkForTick();
    this.#flushHead();
    if (this.#chunked && !this.#bodiless) socket.write(LAST_CHUNK, 'latin1');
    while (socket.writableCorked > 0) socket.uncork();
    if (socket.writableLength === 0) this.#onFlushed();
    // Called back once the bytes before it went to the kernel; with an error (the connection broke off), never flushed.
    else socket.write(EMPTY, (err) => { if (!err) this.#onFlushed(); });
    this.#closeCallbacks = undefined;
    this.#owner.responseEnded(this.#keepAlive);
  }

  abort(): void {
    this.#socket.destroy();
  }

  onDrain(cb: () => void): void { this.#socket.once('drain', cb); }

  onClose(cb: () => void): void {
    if (this.#ended) return;
    (this.#closeCallbacks ??= []).push(cb);
  }

  onFlushed(cb: () => void): void {
    if (this.#flushed) cb();
    else if (!this.#gone) (this.#flushCallbacks ??= []).push(cb);
  }

  /** The connection closed (lean-connection.ts): before the end, the client went away. */
  socketClosed(): void {
    if (this.#ended) return;
    this.#gone = true;
    const callbacks = this.#closeCallbacks;
    this.#closeCallbacks = undefined;
    if (callbacks) for (const cb of callbacks) cb();
  }

  #flushHead(): void {
    const head = this.#pendingHead;
    if (head === undefined) return;
    this.#pendingHead = undefined;
    this.#socket.write(head, 'latin1');
  }

  #corkForTick(): void {
    if (this.#uncorkScheduled) return;
    this.#uncorkScheduled = true;
    this.#socket.cork();
    process.nextTick(LeanFrontResponse.#endOfTick, this);
  }

  static #endOfTick(self: LeanFrontResponse): void {
    self.#uncorkScheduled = false;
    if (self.#gone || self.#socket.destroyed) return;
    self.#flushHead();
    while (self.#socket.writableCorked > 0) self.#socket.uncork();
  }

  #onFlushed(): void {
    this.#flushed = true;
    const callbacks = this.#flushCallbacks;
    this.#flushCallbacks = undefined;
    if (callbacks) for (const cb of callbacks) cb();
  }
}
