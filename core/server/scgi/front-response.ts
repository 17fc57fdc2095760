// The reply in the CGI-style form SCGI front ends expect: `Status: 200 OK`,
// the headers, a blank line, then the body raw. A response without a
// Content-Length ends when we close the connection (nginx accepts that).
import type { Socket } from 'node:net';
import type { FrontResponse } from '../front.ts';

/** Hop-by-hop headers mean nothing on an SCGI reply; the front server frames the body itself. */
const DROPPED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'upgrade', 'trailer', 'te']);

export function statusHead(status: number, reason: string, headers: readonly string[]): string {
  let head = `Status: ${status} ${reason.replace(/[\r\n]/g, '')}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (DROPPED.has(headers[i]!.toLowerCase())) continue;
    head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  }
  return head + '\r\n';
}

export class ScgiFrontResponse implements FrontResponse {
  readonly #socket: Socket;
  #headersSent = false;
  #ended = false;
  /** The head, held back so that it leaves together with the first body chunk. */
  #head: string | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  get headersSent(): boolean { return this.#headersSent; }
  get clientGone(): boolean { return this.#socket.destroyed && !this.#ended; }

  writeHead(status: number, reason: string, headers: string[]): void {
    this.#headersSent = true;
    this.#head = statusHead(status, reason, headers);
    // A first chunk that came with the head joins it; otherwise (a stream that starts later) the head goes alone.
    process.nextTick(ScgiFrontResponse.#flushHead, this);
  }

  static #flushHead(self: ScgiFrontResponse): void {
    const head = self.#head;
    if (head === undefined || self.#socket.destroyed) return;
    self.#head = undefined;
    self.#socket.write(head, 'latin1');
  }

  write(chunk: Buffer): boolean {
    const socket = this.#socket;
    if (socket.destroyed) return true;
    const head = this.#head;
    if (head === undefined) return socket.write(chunk);
    this.#head = undefined;
    // Corked for the two writes only: one writev, and nothing left queued by the cork itself.
    socket.cork();
    socket.write(head, 'latin1');
    const flowing = socket.write(chunk);
    socket.uncork();
    return flowing;
  }

  holdsData(): boolean { return this.#socket.writableLength > 0; }

  end(): void {
    this.#ended = true;
    const head = this.#head;
    this.#head = undefined;
    if (head !== undefined) this.#socket.end(head, 'latin1');
    else this.#socket.end();
  }

  abort(): void {
    this.#ended = true;
    this.#socket.destroy();
  }

  onDrain(cb: () => void): void { this.#socket.once('drain', cb); }

  /** The connection carries one response: its 'finish' means every write was handed to the kernel. */
  onFlushed(cb: () => void): void {
    const socket = this.#socket;
    if (socket.writableFinished) cb();
    else if (!socket.destroyed) socket.once('finish', cb);
  }

  onClose(cb: () => void): void {
    this.#socket.once('close', () => { if (!this.#ended) cb(); });
  }
}
