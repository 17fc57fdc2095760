// An app's static directory (public/ by default). Whether it exists is
// looked up at most once a second, so an app without one pays nothing per
// request, and a directory created or replaced (a deploy) is noticed soon.
// The same goes for the paths under it that named no file (missed-paths.ts).
import { realpathSync, statSync } from 'node:fs';
import { inside } from './safe-open.ts';
import { MissedPaths } from './missed-paths.ts';

const RECHECK_MS = 1000;

export class PublicDir {
  /** As configured: app root joined with static_files_dir. */
  readonly path: string;
  readonly #appRoot: string;
  readonly #confined: boolean;
  #real: string | undefined;
  #checkedAt = -Infinity;
  /** Request paths (StaticFiles' keys) that led to no file to send, lately. */
  readonly misses = new MissedPaths();

  /** `confined`: the directory itself must lie inside the app root (the server runs as root and the app's user owns the tree). */
  constructor(appRoot: string, path: string, confined: boolean) {
    this.#appRoot = appRoot;
    this.path = path;
    this.#confined = confined;
  }

  /** The directory's real path, or undefined when it does not exist (or, confined, leads out of the app). */
  real(now: number): string | undefined {
    if (now - this.#checkedAt < RECHECK_MS) return this.#real;
    this.#checkedAt = now;
    const before = this.#real;
    this.#real = undefined;
    if (statSync(this.path, { throwIfNoEntry: false })?.isDirectory()) {
      try {
        const real = realpathSync.native(this.path);
        if (!this.#confined || inside(this.#appRoot, real)) this.#real = real;
      } catch { /* removed meanwhile */ }
    }
    // Another directory: what was missing from the old one says nothing about it.
    if (this.#real !== before) this.misses.clear();
    return this.#real;
  }
}
