// Whether a given user may connect to a Unix socket, worked out from the
// modes and owners on the way (connect needs search permission on every
// directory above the socket and write permission on the socket itself).
// `passenger nginx-config` uses it to warn, before nginx answers 502
// (EACCES), that its worker user cannot reach the instance.
import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { lookupUser } from '../spawn/user-switch.ts';

/** The gids a user belongs to: its primary group and every /etc/group row naming it. */
function groupsOf(name: string, primaryGid: number): Set<number> {
  const gids = new Set([primaryGid]);
  try {
    for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
      const [, , gid, members] = line.split(':');
      if (members?.split(',').includes(name)) gids.add(Number(gid));
    }
  } catch { /* no /etc/group: the primary group only */ }
  return gids;
}

function allowed(mode: number, uid: number, gid: number, user: { uid: number; gids: Set<number> }, bit: number): boolean {
  if (user.uid === 0) return true;
  if (uid === user.uid) return (mode & (bit << 6)) !== 0;
  if (user.gids.has(gid)) return (mode & (bit << 3)) !== 0;
  return (mode & bit) !== 0;
}

/** Undefined when `userName` can connect to `socketPath`; otherwise why not, naming the path at fault. */
export function whyCannotConnect(userName: string, socketPath: string): string | undefined {
  const u = lookupUser(userName);
  if (!u) return `user ${userName} does not exist on this machine`;
  const user = { uid: u.uid, gids: groupsOf(u.name, u.gid) };
  const dirs: string[] = [];
  for (let d = dirname(socketPath); ; d = dirname(d)) {
    dirs.unshift(d);
    if (d === dirname(d)) break;
  }
  for (const d of dirs) {
    let st;
    try { st = statSync(d); } catch { return `${d} cannot be read here`; }
    if (!allowed(st.mode, st.uid, st.gid, user, 0o1)) {
      return `${userName} may not enter ${d} (owner uid ${st.uid}, group ${st.gid}, mode 0${(st.mode & 0o777).toString(8)})`;
    }
  }
  let st;
  try { st = statSync(socketPath); } catch { return `${socketPath} does not exist`; }
  if (!allowed(st.mode, st.uid, st.gid, user, 0o2)) {
    return `${userName} may not write to ${socketPath} (owner uid ${st.uid}, group ${st.gid}, mode 0${(st.mode & 0o777).toString(8)})`;
  }
  return undefined;
}

/**
 * The user nginx's workers run as, from the `user` directive of its main
 * configuration file; nginx's own default (nobody) when there is none, and
 * undefined when the file cannot be read.
 */
export function nginxWorkerUser(confPath = '/etc/nginx/nginx.conf'): string | undefined {
  let text: string;
  try { text = readFileSync(confPath, 'utf8'); } catch { return undefined; }
  const m = /^\s*user\s+([^\s;]+)[^;]*;/m.exec(text.replace(/#.*$/gm, ''));
  return m ? m[1] : 'nobody';
}
