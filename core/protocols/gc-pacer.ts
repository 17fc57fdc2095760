// Request bodies reach the core as chunks that node allocates outside the JS
// heap, one per read. V8 frees them when its young generation fills, which
// their small wrappers barely do, or once some 64 MiB of them piled up: 10 MiB
// uploads kept 20-40 MiB of dead chunks in the core's RSS. A scavenge after
// every few MiB of relayed body (about 65 µs each) frees them while they are
// few. The watchdog starts the core with --expose-gc for this; elsewhere
// (a core started another way) this does nothing.
type Collect = (options: { type: 'minor'; execution: 'sync' }) => void;

const collect = (globalThis as { gc?: Collect }).gc;
const EVERY_BYTES = 8 * 1024 * 1024;
let sinceLast = 0;

/** Counts body bytes that went through the core, and scavenges every EVERY_BYTES. */
export function noteBodyBytes(bytes: number): void {
  if (collect === undefined) return;
  sinceLast += bytes;
  if (sinceLast < EVERY_BYTES) return;
  sinceLast = 0;
  collect({ type: 'minor', execution: 'sync' });
}
