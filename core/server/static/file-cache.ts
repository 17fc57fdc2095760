// The contents of small static files, kept in memory. Streaming a file with
// send (fs.createReadStream piped into the response) spends most of its time
// in the stream machinery, one chunk and one drain after another: a 1 MiB
// file went out at 0.15-0.18 of nginx's rate (the bench's static row). A
// file read whole once and written from memory in one call, as nginx's
// sendfile does from the page cache, goes out at about nginx's rate.
//
// An entry belongs to one inode and is valid while the file's size, mtime and
// ctime are those it was read with; the caller passes the fstat of a file it
// opened through openInside (safe-open.ts), so the checks on where a file
// lies are unchanged. Least recently used entries go first when the cache is
// over its size. Misses for the same version of a file while it is being
// read wait for that one read: a burst of requests for a new asset after a
// deploy reads it once, instead of holding a copy per request in memory.
import { read, fstat, type Stats } from 'node:fs';

/** Larger files are always streamed: a cache of a few entries would thrash. */
export const MAX_CACHED_FILE = 2 * 1024 * 1024;

interface Entry { body: Buffer; size: number; mtimeMs: number; ctimeMs: number }
/** A read under way, and who waits for it. */
interface Loading { size: number; mtimeMs: number; ctimeMs: number; waiters: ((body: Buffer | undefined) => void)[] }

function key(st: Stats): string { return `${st.dev}:${st.ino}`; }

/** Whether `st` shows the file as it was when `e` was taken: same size, mtime and ctime (a write or a chmod moves ctime). */
export function unchanged(e: { size: number; mtimeMs: number; ctimeMs: number }, st: Stats): boolean {
  return e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs;
}

export class StaticFileCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Loading>();
  #bytes = 0;

  /** `maxBytes`: memory for file contents in all; 0 turns the cache off. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  get bytes(): number { return this.#bytes; }

  /** Whether a file of these stats may be cached at all. */
  admits(st: Stats): boolean {
    return this.#maxBytes > 0 && st.size <= Math.min(MAX_CACHED_FILE, this.#maxBytes);
  }

  /** The contents of the opened file whose fstat is `st`, when cached and unchanged since. */
  get(st: Stats): Buffer | undefined {
    const k = key(st);
    const e = this.#entries.get(k);
    if (e === undefined) return undefined;
    if (!unchanged(e, st)) { this.#drop(k, e); return undefined; }
    // Most recently used last.
    this.#entries.delete(k);
    this.#entries.set(k, e);
    return e.body;
  }

  /**
   * Reads the opened file `fd` (fstat `st`) whole and keeps it. Calls back
   * with its contents, or undefined when it could not be read whole or
   * changed meanwhile (the caller then streams it). The descriptor stays the
   * caller's.
   */
  load(fd: number, st: Stats, done: (body: Buffer | undefined) => void): void {
    const k = key(st);
    const under = this.#loading.get(k);
    // The same version is being read for another request: its read serves this one too.
    if (under !== undefined && unchanged(under, st)) { under.waiters.push(done); return; }
    const loading: Loading = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, waiters: [done] };
    this.#loading.set(k, loading);
    const finish = (body: Buffer | undefined) => {
      if (this.#loading.get(k) === loading) this.#loading.delete(k);
      for (const waiter of loading.waiters) waiter(body);
    };
    const body = Buffer.allocUnsafeSlow(st.size);
    read(fd, body, 0, st.size, 0, (err, n) => {
      if (err || n !== st.size) { finish(undefined); return; }
      // Written to while we read: not a version to keep (nor to send).
      fstat(fd, (err2, after) => {
        if (err2 || !unchanged(loading, after)) { finish(undefined); return; }
        this.#put(k, { body, size: loading.size, mtimeMs: loading.mtimeMs, ctimeMs: loading.ctimeMs });
        finish(body);
      });
    });
  }

  #put(k: string, e: Entry): void {
    const old = this.#entries.get(k);
    if (old) this.#drop(k, old);
    this.#entries.set(k, e);
    this.#bytes += e.size;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#drop(oldest, entry);
    }
  }

  #drop(k: string, e: Entry): void {
    this.#entries.delete(k);
    this.#bytes -= e.size;
  }
}
