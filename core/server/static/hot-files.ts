// Paths that were opened for serving and found inside the static directory
// (safe-open.ts), each with the version of the file it led to and that
// version's response headers. A later request for the same path whose stat(2)
// finds the same file unchanged (device, inode, size, mtime, ctime) needs no
// realpath, open, readlink nor fstat again: the path still leads to that very
// file, so its cached contents are what opening it would send. Anything else
// (another inode behind the path: a symlink swapped in, a replaced file; a
// chmod, which moves ctime) misses, and the request takes the full checks.
//
// Which compressed siblings a file has (.br, .gz) is looked up at most once
// a second per file: a sibling added by a deploy is used within a second, and
// one removed is noticed at once, since its own stat then fails.
import type { Stats } from 'node:fs';
import type { FileReplies } from './static-reply.ts';
import { unchanged } from './file-cache.ts';
import { statIfAny } from './safe-open.ts';

/** More paths than this: the oldest go first (a crawler walking every file must not grow the core). */
const MAX_PATHS = 4096;
const SIBLINGS_RECHECK_MS = 1000;

export interface HotFile extends FileReplies {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  /** Whether its replies carry Vary: they do when the file it is a variant of has compressed siblings. */
  vary: boolean;
}

export interface Siblings { br: boolean; gz: boolean; checkedAt: number }

/** Whether `st` is the version of the file `hot` was made from. */
export function sameVersion(hot: HotFile, st: Stats): boolean {
  return hot.ino === st.ino && hot.dev === st.dev && unchanged(hot, st);
}

function isFile(path: string): boolean { return statIfAny(path)?.isFile() === true; }

export class HotFiles {
  readonly #files = new Map<string, HotFile>();
  readonly #siblings = new Map<string, Siblings>();

  get(path: string): HotFile | undefined { return this.#files.get(path); }

  /** `path` was opened inside the tree and found to be the file `st` describes. */
  remember(path: string, st: Stats, replies: FileReplies, vary: boolean): void {
    bounded(this.#files, path, {
      ...replies, vary, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs,
    });
  }

  /** Which of `path`.br and `path`.gz exist, looked up again once `now` is a second past the last look. */
  siblingsOf(path: string, now: number): Siblings {
    const known = this.#siblings.get(path);
    if (known !== undefined && now - known.checkedAt < SIBLINGS_RECHECK_MS) return known;
    const fresh = { br: isFile(`${path}.br`), gz: isFile(`${path}.gz`), checkedAt: now };
    bounded(this.#siblings, path, fresh);
    return fresh;
  }
}

function bounded<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  if (map.size >= MAX_PATHS) map.delete(map.keys().next().value!);
  map.set(key, value);
}
