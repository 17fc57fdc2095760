// Before an app is started as another user (the server runs as root), check
// that this user can reach what the process will need: every directory above
// the app and the loader's files must be searchable, the startup file and the
// loader's scripts readable, the command executable. Otherwise the process
// fails with a bare "Permission denied" naming a file, not the directory that
// blocks it (a project cloned under /root, mode 0700, with apps run as
// nobody). Like Passenger, name the blocking path and the chmod that fixes it.
//
// From stat alone (owner, group, mode, the user's groups from /etc/group);
// nothing is opened, and POSIX ACLs are not read.
import { statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { readFileSync } from 'node:fs';

export interface AccessUser { name: string; uid: number; gid: number }

/** What the user needs on a path: r(ead), w(rite), (e)x(ecute / search). */
type Need = 'r' | 'x';

export interface Blocked {
  path: string;
  need: Need;
  /** What it is needed for, e.g. "the app directory". */
  purpose: string;
  /** The chmod that grants it (u, g or o, by how the user relates to the file). */
  fix: string;
  mode: string;
  owner: number;
  group: number;
}

function groupsOf(user: AccessUser): Set<number> {
  const groups = new Set([user.gid]);
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && f[3]!.split(',').includes(user.name)) groups.add(Number(f[2]));
    }
  } catch { /* no /etc/group: the primary group only */ }
  return groups;
}

function who(st: Stats, user: AccessUser, groups: Set<number>): 'u' | 'g' | 'o' {
  if (st.uid === user.uid) return 'u';
  return groups.has(st.gid) ? 'g' : 'o';
}

function allows(st: Stats, user: AccessUser, groups: Set<number>, need: Need): boolean {
  if (user.uid === 0) return true;
  const shift = { u: 6, g: 3, o: 0 }[who(st, user, groups)];
  const bit = need === 'r' ? 4 : 1;
  return ((st.mode >> shift) & bit) !== 0;
}

/** Every directory from / down to `path`'s parent, then `path`. */
function chain(path: string): string[] {
  const out: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    out.unshift(p);
    if (p === dirname(p)) break;
  }
  return out;
}

export class AccessChecker {
  readonly #user: AccessUser;
  readonly #groups: Set<number>;

  constructor(user: AccessUser) {
    this.#user = user;
    this.#groups = groupsOf(user);
  }

  /** The first path that blocks `need` on `path` (searching every directory above it), or undefined. */
  check(path: string, need: Need, purpose: string): Blocked | undefined {
    const steps = chain(path);
    for (let i = 0; i < steps.length; i++) {
      const p = steps[i]!;
      let st: Stats;
      try { st = statSync(p); } catch { return undefined; } // missing: the process will say so itself
      const last = i === steps.length - 1;
      const wanted: Need = last ? need : 'x';
      if (!allows(st, this.#user, this.#groups, wanted)) {
        return {
          path: p, need: wanted, purpose: last ? purpose : `a directory above ${purpose}`,
          fix: `chmod ${who(st, this.#user, this.#groups)}+${wanted} ${p}`,
          mode: (st.mode & 0o7777).toString(8).padStart(4, '0'), owner: st.uid, group: st.gid,
        };
      }
    }
    return undefined;
  }
}

/** Absolute paths among the arguments that exist as files: loader scripts the process will read. */
export function fileArguments(args: string[]): string[] {
  return args.filter((a) => isAbsolute(a) && (() => { try { return statSync(a).isFile(); } catch { return false; } })());
}
