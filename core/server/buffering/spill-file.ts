// A temporary file that holds bytes one side cannot take yet (a request body
// before a process is free, a response a slow client reads): appended to in
// order, read back from any position, and removed when the request is done.
// It lives in the instance directory (private to the server's user), which
// goes with the instance, so even a crash leaves nothing elsewhere.
import fs from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PassengerError } from '../../errors/passenger-error.ts';
import type { RecyclableChunks } from '../front.ts';

/** How much a read from the file returns at most. */
export const SPILL_READ_SIZE = 64 * 1024;

export interface SpillFileOptions {
  /**
   * Appends are written once this many bytes are queued, at the latest
   * WRITE_DELAY_MS after the first of them, or at flush(); 0: each at once.
   * Each write goes through node's thread pool and wakes two threads, which
   * costs more than copying the bytes: for 10 MiB uploads, the core spent
   * about 35 ms of CPU on 64 KiB writes and reads of its spill file.
   */
  writeBatchBytes?: number;
  /**
   * Gets every appended buffer back once its write completed (or failed):
   * a body whose chunks are reused (RecyclableChunks) then runs through a
   * few buffers instead of one per read.
   */
  recycle?: ((chunk: Buffer) => void) | undefined;
}

/** Read buffers a readable() keeps for reuse: one being written to the app, one being read into, one spare. */
const MAX_SPARE_READS = 3;

/** How long a batch waits for more bytes: a slow client's bytes are written (and no longer held) soon anyway. */
const WRITE_DELAY_MS = 20;

let serial = 0;
const madeDirs = new Set<string>();

function ioError(what: string, e: unknown): PassengerError {
  return new PassengerError('PSG_ERR_BUFFER_IO', `${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {}, { cause: e });
}

export class SpillFile {
  readonly path: string;
  readonly #fd: number;
  /** Bytes appended so far. */
  size = 0;
  /** Bytes on disk (appends whose write completed). */
  written = 0;
  #queue: Buffer[] = [];
  #queuedBytes = 0;
  #writing = false;
  readonly #batchBytes: number;
  readonly #recycle: ((chunk: Buffer) => void) | undefined;
  #flushing = false;
  #delay: NodeJS.Timeout | undefined;
  /** fs calls in flight: the descriptor is closed only when none is (a number reused by another open must never be written). */
  #busy = 0;
  #removed = false;
  #closed = false;
  #error: PassengerError | undefined;
  #progress: (() => void) | undefined;

  /** Creates the file (synchronously: it happens once per buffered body, before its first write). Throws PSG_ERR_BUFFER_IO. */
  constructor(dir: string, kind: string, opts: SpillFileOptions = {}) {
    this.#batchBytes = opts.writeBatchBytes ?? 0;
    this.#recycle = opts.recycle;
    try {
      if (!madeDirs.has(dir)) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        madeDirs.add(dir);
      }
      this.path = join(dir, `${kind}-${process.pid}-${++serial}`);
      this.#fd = fs.openSync(this.path, 'wx+', 0o600);
    } catch (e) {
      throw ioError(`cannot create a buffer file in ${dir}`, e);
    }
  }

  /** Bytes appended but not on disk yet. */
  get pending(): number { return this.size - this.written; }
  get error(): PassengerError | undefined { return this.#error; }

  /** Called after every completed write (and on a write error). One listener: its owner. */
  onProgress(cb: () => void): void { this.#progress = cb; }

  /** Appends `data`, which must not change afterwards (the write is asynchronous). */
  append(data: Buffer): void {
    if (this.#removed || this.#error) return;
    this.size += data.length;
    this.#queue.push(data);
    this.#queuedBytes += data.length;
    if (!this.#writing) this.#writeOrWait();
  }

  /** Writes what is queued now, whatever the batch size, and every later append as it comes (the owner has no more to wait for). */
  flush(): void {
    this.#flushing = true;
    if (!this.#writing && this.#queuedBytes > 0) this.#writeQueued();
  }

  #writeOrWait(): void {
    if (this.#flushing || this.#queuedBytes >= this.#batchBytes) { this.#writeQueued(); return; }
    if (this.#delay !== undefined) return;
    this.#delay = setTimeout(this.#onDelay, WRITE_DELAY_MS);
    this.#delay.unref();
  }

  readonly #onDelay = (): void => {
    this.#delay = undefined;
    if (!this.#writing && !this.#removed && this.#queuedBytes > 0) this.#writeQueued();
  };

  #writeQueued(): void {
    clearTimeout(this.#delay);
    this.#delay = undefined;
    const bufs = this.#queue;
    const total = this.#queuedBytes;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#writing = true;
    this.#busy++;
    fs.writev(this.#fd, bufs, this.written, (err, n) => {
      this.#busy--;
      this.#writing = false;
      if (!err && n !== total) err = Object.assign(new Error('short write'), { code: 'ENOSPC' });
      const recycle = this.#recycle;
      if (recycle !== undefined) for (const b of bufs) recycle(b);
      if (err) this.#error ??= ioError(`cannot write the buffer file ${this.path}`, err);
      else this.written += n;
      if (this.#removed) { this.#closeIfIdle(); return; }
      if (!this.#error && this.#queuedBytes > 0) this.#writeOrWait();
      this.#progress?.();
    });
  }

  /** Reads up to `length` bytes at `position` into `into` (at least `length` long), by default a fresh buffer (it may be kept). */
  read(position: number, length: number, cb: (err: PassengerError | null, data: Buffer) => void, into?: Buffer): void {
    if (this.#removed) return;
    const buf = into ?? Buffer.allocUnsafe(length);
    this.#busy++;
    fs.read(this.#fd, buf, 0, length, position, (err, n) => {
      this.#busy--;
      if (this.#removed) { this.#closeIfIdle(); return; }
      if (err || n === 0) cb(ioError(`cannot read the buffer file ${this.path}`, err ?? new Error('unexpected end of file')), buf);
      else cb(null, n === buf.length ? buf : buf.subarray(0, n));
    });
  }

  /**
   * The whole content as a stream (once everything was written), in reads
   * of at most `readSize` bytes. A consumer may give a chunk back with
   * `recycle(chunk)` once nothing refers to it any more (body-pump.ts does
   * when its write reached the kernel): later reads then go into it instead
   * of fresh memory, whose pages the kernel has to fault in one by one.
   */
  readable(readSize = SPILL_READ_SIZE): Readable & RecyclableChunks {
    let position = 0;
    const spare: Buffer[] = [];
    const stream: Readable & RecyclableChunks = Object.assign(new Readable({
      highWaterMark: readSize,
      read: () => {
        if (position >= this.written) { stream.push(null); return; }
        this.read(position, Math.min(readSize, this.written - position), (err, data) => {
          if (err) { stream.destroy(err); return; }
          position += data.length;
          stream.push(data);
          if (position >= this.written) stream.push(null);
        }, spare.pop());
      },
    }), {
      recycle(chunk: Buffer): void {
        // Only whole buffers of this stream's size (a short last read of a fresh buffer is left to the GC).
        if (spare.length < MAX_SPARE_READS && chunk.byteOffset === 0 && chunk.buffer.byteLength === readSize) spare.push(Buffer.from(chunk.buffer, 0, readSize));
      },
    });
    return stream;
  }

  /** Unlinks the file now and closes it once no call is in flight. Idempotent. */
  remove(): void {
    if (this.#removed) return;
    this.#removed = true;
    clearTimeout(this.#delay);
    this.#delay = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#progress = undefined;
    fs.unlink(this.path, () => {});
    this.#closeIfIdle();
  }

  #closeIfIdle(): void {
    if (this.#busy > 0 || this.#closed) return;
    this.#closed = true;
    fs.close(this.#fd, () => {});
  }
}
