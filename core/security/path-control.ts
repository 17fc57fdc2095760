// Who can change what a path holds. Root must never run code or follow a path
// that a less privileged user controls, so before root reads a configuration
// file or loads a plugin it asks: which users other than root could replace
// or rewrite this file? That is the owner of the file and the owner of every
// directory above it (a directory's owner can rename any entry away and put
// another in its place), and anyone at all when one of them is writable by
// its group or by everyone (a sticky directory, like /tmp, lets others add
// entries but not replace ours, so it counts only its owner).
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { lookupUser } from '../spawn/user-switch.ts';

export interface PathControl {
  /** Non-root users who can change the path's content, in the order found (the nearest last). */
  users: number[];
  /** Set when others can change it too: names the file or directory writable by its group or everyone. */
  openTo?: string;
  /** The path is a symbolic link (its target was checked as well). */
  symlink: boolean;
}

function note(st: Stats, path: string, into: { users: Set<number>; openTo?: string }): void {
  if (st.uid !== 0) into.users.add(st.uid);
  if (st.isSymbolicLink()) return; // a link's own mode means nothing
  const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0; // S_ISVTX
  if ((st.mode & 0o022) !== 0 && !sticky) {
    into.openTo ??= `${path} is writable by ${(st.mode & 0o002) !== 0 ? 'everyone' : `its group (gid ${st.gid})`}`;
  }
}

/** Notes every component of an absolute path, following symbolic links into their targets. */
function walk(path: string, into: { users: Set<number>; openTo?: string }, depth = 0): void {
  let current: string = sep;
  const parts = path.split(sep).filter(Boolean);
  note(lstatSync(current), current, into);
  for (const part of parts) {
    current = join(current, part);
    const st = lstatSync(current);
    note(st, current, into);
    // The target of a link is controlled by whoever controls the directories it goes through.
    if (st.isSymbolicLink() && depth < 8) walk(realpathSync(current), into, depth + 1);
  }
}

/** Who besides root can change the file or directory at `path` (which must exist). */
export function pathControl(path: string): PathControl {
  const absolute = resolve(path);
  const into: { users: Set<number>; openTo?: string } = { users: new Set() };
  walk(absolute, into);
  const symlink = lstatSync(absolute).isSymbolicLink();
  return { users: [...into.users], ...(into.openTo !== undefined ? { openTo: into.openTo } : {}), symlink };
}

/** True when nobody but root can change it. */
export function onlyRootControls(c: PathControl): boolean {
  return c.users.length === 0 && c.openTo === undefined;
}

/** "nobody (uid 65534)", for messages. */
export function describeUid(uid: number): string {
  const u = lookupUser(uid);
  return u ? `${u.name} (uid ${uid})` : `uid ${uid}`;
}

/** A sentence saying who controls a path, for messages: "nobody (uid 65534) can change it". */
export function describeControl(c: PathControl): string {
  const who = c.users.map(describeUid);
  const parts = [...(who.length > 0 ? [`${who.join(' and ')} can change it`] : []), ...(c.openTo !== undefined ? [c.openTo] : [])];
  return parts.join('; ');
}
