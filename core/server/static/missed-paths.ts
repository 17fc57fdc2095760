// Request paths that named no file to send, remembered for a second. An app
// with a public/ directory (every Rails app) has most of its GETs answered by
// the app itself (/, /users/1), and each one took one or two stat(2) calls to
// find that out: 2.4-3.4 µs apiece on the bench VM, a fifth of the core's
// work for a proxied hello world. A file created there is served within a
// second, as the directory itself is noticed (public-dir.ts).
export const MISSED_PATH_TTL_MS = 1000;
/** Bounded: request paths come from clients. */
export const MISSED_PATHS_MAX = 4096;

export class MissedPaths {
  /** Key -> until when it counts as missing. Insertion order is expiry order (one TTL for all). */
  readonly #until = new Map<string, number>();

  has(key: string, now: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (now < until) return true;
    this.#until.delete(key);
    return false;
  }

  add(key: string, now: number): void {
    // Expired entries leave from the front; when all are current and the map is full, the oldest goes.
    for (const [first, until] of this.#until) {
      if (until > now && this.#until.size < MISSED_PATHS_MAX) break;
      this.#until.delete(first);
    }
    this.#until.set(key, now + MISSED_PATH_TTL_MS);
  }

  clear(): void {
    this.#until.clear();
  }

  get size(): number {
    return this.#until.size;
  }
}
