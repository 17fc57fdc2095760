// Reads a whole request body before a process is taken for it, as Passenger
// and nginx do: a slow or stalled upload then costs a buffer, not one of the
// few requests an app process serves at once. Up to MEMORY_LIMIT the chunks
// are kept as they came (no copy); beyond, everything goes to a spill file.
// The result has a known length, so apps that read CONTENT_LENGTH get the
// body of a chunked request too.
import { Readable } from 'node:stream';
import { PassengerError } from '../../errors/passenger-error.ts';
import { SpillFile } from './spill-file.ts';
import type { RecyclableChunks } from '../front.ts';

/** Body bytes kept in memory per request before a spill file takes over. */
export const MEMORY_LIMIT = 128 * 1024;
/** Beyond it, the file is written in pieces of this size (spill-file.ts says why), and read back in them. */
const FILE_BATCH = 512 * 1024;
/** Reading from the client pauses while this much is not on disk yet (a disk slower than the client). */
const MAX_UNWRITTEN = 2 * FILE_BATCH;
/**
 * What each kept chunk costs beyond its bytes (the Buffer object): counted
 * against MEMORY_LIMIT, so that a body trickling in one byte per read cannot
 * hold thousands of tiny buffers.
 */
const CHUNK_OVERHEAD = 256;

export interface RequestBufferOptions {
  /** Where spill files go (in the instance directory). */
  dir: string;
  /** Largest body in bytes (0: no limit): larger gets PSG_ERR_HTTP_BODY_TOO_LARGE. */
  maxSize: number;
  /** A body with no new byte for this long gets PSG_ERR_HTTP_BODY_TIMEOUT (0: no limit), in ms. */
  idleTimeoutMs: number;
}

export interface BufferedBody {
  body: Readable;
  length: number;
  /** Removes the spill file, if any (once the request is over). */
  release(): void;
}

/** A body that offers recycle() (one streamed from a client: server/pooled-body.ts) gets each chunk back once it is on disk. */
export function bufferRequestBody(body: Readable & Partial<RecyclableChunks>, opts: RequestBufferOptions): Promise<BufferedBody> {
  return new Promise((resolve, reject) => new BodyCollector(body, opts, resolve, reject).start());
}

const noRelease = (): void => {};

/** A body held in memory, as the stream the forwarding path reads bodies from. */
export function memoryBody(chunks: Buffer[]): Readable {
  const r = new Readable({ read() {} });
  for (const c of chunks) r.push(c);
  r.push(null);
  return r;
}

class BodyCollector {
  readonly #body: Readable & Partial<RecyclableChunks>;
  readonly #opts: RequestBufferOptions;
  readonly #resolve: (b: BufferedBody) => void;
  readonly #reject: (e: unknown) => void;
  readonly #chunks: Buffer[] = [];
  #size = 0;
  #cost = 0;
  #file: SpillFile | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  #settled = false;

  constructor(body: Readable & Partial<RecyclableChunks>, opts: RequestBufferOptions, resolve: (b: BufferedBody) => void, reject: (e: unknown) => void) {
    this.#body = body;
    this.#opts = opts;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const body = this.#body;
    // Already over (the client left while the request waited for its app).
    if (body.destroyed && !body.readableEnded) { this.#fail(gone()); return; }
    body.on('data', this.#onData);
    body.once('end', this.#onEnd);
    body.once('close', this.#onClose);
    body.on('error', noop);
    const ms = this.#opts.idleTimeoutMs;
    if (ms > 0) {
      this.#timer = setTimeout(this.#onIdle, ms);
      this.#timer.unref();
    }
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#size += chunk.length;
    this.#timer?.refresh();
    const max = this.#opts.maxSize;
    if (max > 0 && this.#size > max) {
      this.#fail(new PassengerError('PSG_ERR_HTTP_BODY_TOO_LARGE', `request body of more than ${max} bytes is larger than max_body_size (${max})`));
      return;
    }
    let file = this.#file;
    if (!file) {
      this.#cost += chunk.length + CHUNK_OVERHEAD;
      if (this.#cost <= MEMORY_LIMIT) { this.#chunks.push(chunk); return; }
      try {
        file = this.#file = new SpillFile(this.#opts.dir, 'request', { writeBatchBytes: FILE_BATCH, recycle: this.#body.recycle?.bind(this.#body) });
      } catch (e) {
        this.#fail(e);
        return;
      }
      file.onProgress(this.#onFileProgress);
      for (const c of this.#chunks.splice(0)) file.append(c);
    }
    file.append(chunk);
    // The disk is slower than the client: stop reading until it caught up.
    if (file.pending > MAX_UNWRITTEN) this.#body.pause();
  };

  readonly #onFileProgress = (): void => {
    const file = this.#file!;
    if (file.error) { this.#fail(file.error); return; }
    this.#timer?.refresh();
    if (this.#ended) { if (file.pending === 0) this.#done(); return; }
    if (this.#body.isPaused() && file.pending <= MAX_UNWRITTEN / 2) this.#body.resume();
  };

  readonly #onEnd = (): void => {
    this.#ended = true;
    this.#detach();
    if (!this.#file) {
      this.#settled = true;
      this.#resolve({ body: memoryBody(this.#chunks), length: this.#size, release: noRelease });
    } else if (this.#file.pending === 0) this.#done();
    else this.#file.flush();
  };

  #done(): void {
    if (this.#settled) return;
    this.#settled = true;
    const file = this.#file!;
    this.#resolve({ body: file.readable(FILE_BATCH), length: this.#size, release: () => file.remove() });
  }

  readonly #onClose = (): void => {
    if (!this.#ended) this.#fail(gone());
  };

  readonly #onIdle = (): void => {
    this.#fail(new PassengerError('PSG_ERR_HTTP_BODY_TIMEOUT',
      `the request body made no progress for ${this.#opts.idleTimeoutMs / 1000} s (client_body_timeout; ${this.#size} bytes received)`));
  };

  #detach(): void {
    clearTimeout(this.#timer);
    const body = this.#body;
    body.off('data', this.#onData);
    body.off('end', this.#onEnd);
    body.off('close', this.#onClose);
  }

  #fail(e: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#detach();
    this.#file?.remove();
    this.#chunks.length = 0;
    this.#reject(e);
  }
}

function noop(): void {}

function gone(): PassengerError {
  return new PassengerError('PSG_ERR_CLIENT_GONE', 'the client went away while sending the request body');
}
