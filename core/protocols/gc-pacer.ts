// Request bodies reach the core as chunks that node allocates outside the JS
// heap, one per read. V8 frees them when its young generation fills, which
// their small wrappers barely do, or once some 64 MiB of them piled up: 10 MiB
// uploads kept 20-40 MiB of dead chunks in the core's RSS. A scavenge after
// every few MiB of relayed body (about 65 µs each) frees them while they are
// few. The watchdog starts the core with --expose-gc for this; elsewhere
// (a core started another way) this does nothing.
import { dropFreeReadBuffers } from './read-buffer-pool.ts';

type Collect = (options?: { type: 'minor'; execution: 'sync' }) => void;

const collect = (globalThis as { gc?: Collect }).gc;
const EVERY_BYTES = 8 * 1024 * 1024;
let sinceLast = 0;

/** Counts body bytes that went through the core, and scavenges every EVERY_BYTES. */
export function noteBodyBytes(bytes: number): void {
  if (collect === undefined) return;
  bodyBytesSinceCollect += bytes;
  sinceLast += bytes;
  if (sinceLast < EVERY_BYTES) return;
  sinceLast = 0;
  collect({ type: 'minor', execution: 'sync' });
}

/**
 * After a burst of requests, the old generation holds their dead objects, and
 * V8 collects it only once it grows further or its memory reducer gets round
 * to it: the core kept 10-20 MiB more RSS for as long as it stayed idle. One
 * full collection (10-20 ms, while nothing waits) once the core has
 * served no request for IDLE_MS gives it back. Under steady load, requests
 * keep arriving and this never runs.
 */
const IDLE_MS = 1000;
/** Not for a handful of requests: a full GC costs 10-20 ms. */
const MIN_REQUESTS = 200;
/**
 * Unless they carried large bodies: 40 uploads of 10 MiB left 8-10 MiB of
 * dead body chunks outside the JS heap for as long as the core stayed idle.
 */
const MIN_BODY_BYTES = 64 * 1024 * 1024;
let bodyBytesSinceCollect = 0;
let started = 0;
let startedAtArm = 0;
let collectedAt = 0;
let idleTimer: NodeJS.Timeout | undefined;

/** A request came in. */
export function noteRequestStarted(): void {
  started++;
}

/** No request is in flight: collect if none comes for IDLE_MS. */
export function noteIdle(isIdle: () => boolean): void {
  if (collect === undefined || idleTimer !== undefined) return;
  if (started - collectedAt < MIN_REQUESTS && bodyBytesSinceCollect < MIN_BODY_BYTES) return;
  arm(isIdle);
}

function arm(isIdle: () => boolean): void {
  startedAtArm = started;
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    // Busy now: the request's end re-arms.
    if (!isIdle()) return;
    // Requests came and went meanwhile: wait for a quiet IDLE_MS from now.
    if (started !== startedAtArm) { arm(isIdle); return; }
    collectedAt = started;
    bodyBytesSinceCollect = 0;
    dropFreeReadBuffers();
    // A full collection: node 20's gc() ignores { type: 'major' } (nothing is freed), so no options.
    collect!();
  }, IDLE_MS);
  idleTimer.unref();
}
