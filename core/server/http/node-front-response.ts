// The FrontResponse of the built-in HTTP engine: node's ServerResponse, with
// the head passed on at once when the body comes later, a lingering close for
// unread request bodies, and an honest answer to "is a written chunk still
// queued here?" (holdsData).
import type http from 'node:http';
import type { Socket } from 'node:net';
import type { FrontResponse } from '../front.ts';

/** How long the rest of a request body is read (and dropped) after the answer, before the connection may close. */
export const LINGER_MS = 5000;

/** Shared by an engine and its responses. */
export interface DrainState {
  /** The listener is closing (a stop): every response from now on is its connection's last. */
  closing: boolean;
}

export class NodeFrontResponse implements FrontResponse {
  readonly #req: http.IncomingMessage;
  readonly #res: http.ServerResponse;
  /** The client's connection over HTTP/1; undefined over HTTP/2, whose streams are no sockets to uncork. */
  readonly #socket: Socket | undefined;
  readonly #drain: DrainState;
  #bodyStarted = false;
  constructor(req: http.IncomingMessage, res: http.ServerResponse, overHttp2: boolean, drain: DrainState) {
    this.#req = req;
    this.#res = res;
    this.#socket = overHttp2 ? undefined : req.socket;
    this.#drain = drain;
  }
  get headersSent(): boolean { return this.#res.headersSent; }
  /**
   * The client went away before the response was done. node marks an HTTP/1
   * response destroyed when its connection closes; over HTTP/2 the response
   * has no such flag and a reset stream even counts as finished, so the
   * stream's `aborted` (reset by the client, or its connection lost) tells.
   */
  get clientGone(): boolean {
    const res = this.#res;
    if (this.#socket === undefined) return (res as unknown as { stream: { aborted: boolean } }).stream.aborted;
    return res.destroyed && !res.writableFinished;
  }
  writeHead(status: number, reason: string, headers: string[]): void {
    // Stopping: this response is the connection's last (Connection: close), so no idle keep-alive connection is cut later.
    if (this.#drain.closing) this.#res.shouldKeepAlive = false;
    this.#res.writeHead(status, reason, headers as unknown as http.OutgoingHttpHeaders);
    // node sends the head with the first write; a stream that starts later (long polls, server-sent events) gets it now.
    process.nextTick(NodeFrontResponse.#flushHead, this);
  }
  static #flushHead(self: NodeFrontResponse): void {
    if (!self.#bodyStarted && !self.#res.destroyed) self.#res.flushHeaders();
  }
  write(chunk: Buffer): boolean {
    this.#bodyStarted = true;
    return this.#res.write(chunk);
  }
  /**
   * node corks the connection after a write until the end of the tick, so a
   * chunk just written always looked held: the exchange then moved its app
   * connection's reads to a fresh 16 KiB buffer for every response. Asked
   * here, the connection is uncorked first (what the tick's writes queued goes
   * out in one writev, as at the end of the tick), and only what the kernel
   * did not take counts.
   */
  holdsData(): boolean {
    const socket = this.#socket;
    if (socket !== undefined && socket.writableCorked > 0) socket.uncork();
    return this.#res.writableLength > 0;
  }
  /**
   * An app may answer before it read the body (a 413 for an upload, say).
   * Ending the response lets node close the connection, and closing it with
   * unread bytes resets it: the client, still sending, would get ECONNRESET
   * instead of the answer. So the rest of the body is read and dropped first
   * (a lingering close, as nginx does), for at most LINGER_MS.
   */
  end(): void {
    this.#bodyStarted = true;
    const req = this.#req;
    // complete: the whole request was read off the connection (a bodiless one at once), consumed or not.
    if (req.complete || req.destroyed) { this.#res.end(); return; }
    const finish = () => {
      clearTimeout(timer);
      if (!this.#res.writableEnded) this.#res.end();
    };
    const timer = setTimeout(finish, LINGER_MS);
    timer.unref();
    req.once('end', finish);
    req.once('close', finish);
    req.resume();
  }
  abort(): void { this.#res.destroy(); }
  /**
   * HTTP/1 (plain or TLS): 'finish' means the last write was handed to the
   * kernel (TLS: encrypted into its own buffers). Over HTTP/2 the session may
   * still hold the chunks after the stream finished: never called there.
   */
  onFlushed(cb: () => void): void {
    const res = this.#res;
    if (this.#socket === undefined) return;
    if (res.writableFinished) cb();
    else if (!res.destroyed) res.once('finish', cb);
  }
  onDrain(cb: () => void): void { this.#res.once('drain', cb); }
  onClose(cb: () => void): void {
    const overHttp2 = this.#socket === undefined;
    this.#res.once('close', () => { if (overHttp2 ? this.clientGone : !this.#res.writableFinished) cb(); });
  }
}
