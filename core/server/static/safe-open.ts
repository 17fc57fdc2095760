// Opens a file for serving only if it really lies inside the static
// directory. A symlink (or a directory swapped for one while we look) must
// not lead out of the tree: the real path is checked before opening, the
// last component is opened without following links, and the open file's own
// path (/proc/self/fd) is checked again after, so a race loses nothing.
// The response is then streamed from /proc/self/fd/N, which reopens the same
// inode whatever happens to the path meanwhile.
import { closeSync, constants, existsSync, fstatSync, openSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';

export interface OpenedFile {
  fd: number;
  stat: Stats;
  /** A path that names the opened file itself, not whatever the name points to now. */
  servePath: string;
}

/** 'outside': it exists but leaves the tree (or root may not serve it): refuse. undefined: no such regular file. */
export type OpenResult = OpenedFile | 'outside' | undefined;

const HAVE_PROC = existsSync('/proc/self/fd');
const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * The stats of what `path` leads to, or undefined when there is none.
 * throwIfNoEntry covers ENOENT only: `/style.css/more` fails with ENOTDIR
 * (and a long name with ENAMETOOLONG), which must send the request to the
 * app, not end the core.
 */
export function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

export function inside(root: string, real: string): boolean {
  return real === root || (real.startsWith(root) && real.charCodeAt(root.length) === 47 /* / */);
}

/**
 * `root` is a real path. `worldReadableOnly`: when the server runs as root it
 * serves only what any user may read, so an app cannot publish a file only
 * root can see (a hard link, say).
 */
export function openInside(root: string, candidate: string, worldReadableOnly: boolean): OpenResult {
  let real: string;
  try { real = realpathSync.native(candidate); } catch { return undefined; }
  if (!inside(root, real)) return 'outside';
  let fd: number;
  try { fd = openSync(real, FLAGS); } catch (e) {
    // ELOOP: the last component became a symlink after realpath.
    return (e as NodeJS.ErrnoException).code === 'ELOOP' ? 'outside' : undefined;
  }
  try {
    if (HAVE_PROC && !inside(root, readlinkSync(`/proc/self/fd/${fd}`))) { closeSync(fd); return 'outside'; }
    const stat = fstatSync(fd);
    if (!stat.isFile()) { closeSync(fd); return undefined; }
    if (worldReadableOnly && (stat.mode & 0o004) === 0) { closeSync(fd); return 'outside'; }
    return { fd, stat, servePath: HAVE_PROC ? `/proc/self/fd/${fd}` : real };
  } catch {
    closeSync(fd);
    return undefined;
  }
}
