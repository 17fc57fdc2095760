// Free read buffers of the connections to app processes (upstream-pool.ts),
// kept for the next connection that needs one; a request body streamed from
// a client borrows its chunks' buffers here too (server/pooled-body.ts). A
// connection changes buffers when a read fills its small one (a large
// body), when the body ends (back to small), and when a slow client still
// holds the last read's bytes. Each change allocated: 1 MiB downloads at 32
// connections allocated 2.3 buffers of 64 KiB and 1.6 of 16 KiB per response
// (175 MiB/s), which waited for a GC outside the JS heap and left the malloc
// heap at 30 MiB after the load.
//
// Only buffers known to be free come back here: one whose bytes no write to
// a client still refers to. A buffer a slow client may still hold is left to
// the GC instead, never reused.

/** Per size: enough for the connections of a busy core, small enough to keep (32 x 64 KiB = 2 MiB). */
const MAX_FREE_PER_SIZE = 32;

const free = new Map<number, Buffer[]>();

/** A buffer of `size` bytes, reused when one is free. Its contents are garbage. */
export function takeReadBuffer(size: number): Buffer {
  return free.get(size)?.pop() ?? Buffer.allocUnsafeSlow(size);
}

/** `buffer` is free: nothing refers to its bytes any more. */
export function recycleReadBuffer(buffer: Buffer): void {
  let list = free.get(buffer.length);
  if (list === undefined) free.set(buffer.length, list = []);
  if (list.length < MAX_FREE_PER_SIZE) list.push(buffer);
}

/** Forgets the free buffers (the core went idle: their memory goes back with the next GC). */
export function dropFreeReadBuffers(): void {
  free.clear();
}

/** How many free buffers are kept, for specs. */
export function freeReadBufferCount(): number {
  let n = 0;
  for (const list of free.values()) n += list.length;
  return n;
}
