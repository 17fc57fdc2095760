// Moves a request body from the client into an app connection, with
// backpressure, as is or in HTTP/1.1 chunks (a body of unknown length on a
// connection that stays open). It counts what it sent, so the caller can tell
// how much of an unread body is left when the app answered early.
import type net from 'node:net';
import type { Readable } from 'node:stream';
import type { RecyclableChunks } from '../server/front.ts';
import { noteBodyBytes } from './gc-pacer.ts';

const LAST_CHUNK = '0\r\n\r\n';

export class BodyPump {
  readonly #body: Readable;
  readonly #sock: net.Socket;
  readonly #chunked: boolean;
  readonly #endSocket: boolean;
  readonly #settled: (complete: boolean) => void;
  readonly #recycle: ((chunk: Buffer) => void) | undefined;
  /** Body bytes handed to the socket so far (without chunk framing). */
  sent = 0;
  /** The whole body (and its last chunk) was handed to the socket. */
  done = false;
  #stopped = false;

  /**
   * `endSocket`: half-close the connection after the body (its end marks the body's end).
   * `settled` is called once: true when the whole body went out, false when the body broke off.
   */
  constructor(body: Readable & Partial<RecyclableChunks>, sock: net.Socket, opts: { chunked: boolean; endSocket: boolean }, settled: (complete: boolean) => void) {
    this.#body = body;
    this.#sock = sock;
    this.#chunked = opts.chunked;
    this.#endSocket = opts.endSocket;
    this.#settled = settled;
    this.#recycle = body.recycle?.bind(body);
    body.on('data', this.#onData);
    body.once('end', this.#onEnd);
    body.once('close', this.#onClose);
    // Broken off before the pump started (its 'close' is past): settled as such, after the caller has the pump.
    if (body.destroyed && !body.readableEnded) process.nextTick(this.#onClose);
  }

  /** Stops moving bytes (the exchange is over); the body is left as it is. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#body.off('data', this.#onData);
    this.#body.off('end', this.#onEnd);
    this.#body.off('close', this.#onClose);
    this.#sock.off('drain', this.#onDrain);
  }

  readonly #onData = (chunk: Buffer): void => {
    // An empty chunk would read as the last one.
    if (chunk.length === 0) return;
    this.sent += chunk.length;
    noteBodyBytes(chunk.length);
    const sock = this.#sock;
    const recycle = this.#recycle;
    const written = recycle === undefined ? undefined : () => recycle(chunk);
    let ok: boolean;
    if (this.#chunked) {
      sock.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      sock.write(chunk, written);
      ok = sock.write('\r\n', 'latin1');
    } else ok = sock.write(chunk, written);
    if (!ok) {
      this.#body.pause();
      sock.once('drain', this.#onDrain);
    }
  };

  readonly #onDrain = (): void => { if (!this.#stopped) this.#body.resume(); };

  readonly #onEnd = (): void => {
    if (this.#chunked) this.#sock.write(LAST_CHUNK, 'latin1');
    if (this.#endSocket) this.#sock.end();
    this.done = true;
    this.stop();
    this.#settled(true);
  };

  readonly #onClose = (): void => {
    if (this.done) return;
    this.stop();
    this.#settled(false);
  };
}
