// A request body streamed from a client connection (the lean HTTP engine's
// larger bodies, SCGI bodies): the connection pushes each read's body bytes
// here, copied out of the shared read buffer into a reused buffer, and
// pauses its socket while the reader is behind. A chunk comes back through
// recycle() once its write reached the kernel (body-pump.ts) or the disk
// (spill-file.ts), so an upload runs through a few buffers instead of a
// fresh allocation per read, which node's parser makes and the GC frees
// late (the malloc heap that uploads left behind).
import { Readable } from 'node:stream';
import type { RecyclableChunks } from './front.ts';
import { recycleReadBuffer, takeReadBuffer } from '../protocols/read-buffer-pool.ts';

/** Reads up to this size go into a buffer of this size; larger ones (up to the 64 KiB a read takes) into one of 64 KiB. */
const SMALL_BUFFER = 16 * 1024;
const LARGE_BUFFER = 64 * 1024;
/**
 * Smaller reads are copied into node's shared Buffer pool instead: a client
 * sending a few bytes per read must not pin a reused buffer per read while the
 * reader waits (the stream counts bytes, not the buffers holding them).
 */
const POOLED_FROM = 4 * 1024;
/**
 * Reused buffers out at once, at most. A reader that does not give chunks
 * back gets plain copies beyond this, so it holds no more memory than with
 * fresh buffers, and the map of lent chunks stays small.
 */
const MAX_LENT = 32;

export class PooledBody extends Readable implements RecyclableChunks {
  readonly #wantMore: () => void;
  /** Chunks handed out in reused buffers, by their memory: only these go back to the pool, each once. */
  readonly #lent = new WeakMap<ArrayBufferLike, Buffer>();
  #lentCount = 0;

  /** `wantMore`: the reader caught up; the connection resumes reading. */
  constructor(wantMore: () => void) {
    super({ highWaterMark: LARGE_BUFFER });
    this.#wantMore = wantMore;
  }

  override _read(): void {
    this.#wantMore();
  }

  /**
   * Body bytes from the connection; `bytes` is only valid during the call
   * (a view of the shared read buffer). False: the reader is behind, stop reading.
   */
  pushCopy(bytes: Buffer): boolean {
    const n = bytes.length;
    // (Longer than a read: the bytes that came with the head, seldom more than one read's worth.)
    if (n < POOLED_FROM || n > LARGE_BUFFER || this.#lentCount >= MAX_LENT) return this.push(Buffer.from(bytes));
    const buffer = takeReadBuffer(n <= SMALL_BUFFER ? SMALL_BUFFER : LARGE_BUFFER);
    bytes.copy(buffer, 0, 0, n);
    this.#lent.set(buffer.buffer, buffer);
    this.#lentCount++;
    return this.push(buffer.subarray(0, n));
  }

  recycle(chunk: Buffer): void {
    const buffer = this.#lent.get(chunk.buffer);
    if (buffer === undefined) return;
    this.#lent.delete(chunk.buffer);
    this.#lentCount--;
    recycleReadBuffer(buffer);
  }
}
