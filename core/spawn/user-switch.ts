// Which user an app runs as. Rules (as in Passenger):
// - `user` option: that user (only root can switch).
// - standalone (`passenger run`): the user who started the server.
// - behind a web server while root: the owner of the startup file, never root;
//   a root-owned startup file falls back to default_user (nobody).
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { PassengerError } from '../errors/passenger-error.ts';

export interface UserIdentity {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

function readDb(file: string): string[][] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
  } catch {
    return [];
  }
}

export function lookupUser(nameOrUid: string | number): UserIdentity | undefined {
  const row = readDb('/etc/passwd').find((r) => (typeof nameOrUid === 'number' ? Number(r[2]) === nameOrUid : r[0] === nameOrUid));
  if (!row) return undefined;
  return { name: row[0]!, uid: Number(row[2]), gid: Number(row[3]), home: row[5] ?? '/', shell: row[6] ?? '/bin/sh' };
}

export function lookupGroupId(name: string): number | undefined {
  const row = readDb('/etc/group').find((r) => r[0] === name);
  return row ? Number(row[2]) : undefined;
}

/** The user's primary group, or one that lists them as a member in /etc/group. */
export function isMemberOfGroup(user: UserIdentity, gid: number): boolean {
  if (user.gid === gid) return true;
  const row = readDb('/etc/group').find((r) => Number(r[2]) === gid);
  return (row?.[3] ?? '').split(',').includes(user.name);
}

export function currentUser(): UserIdentity {
  const info = userInfo();
  return { name: info.username, uid: info.uid, gid: process.getgid?.() ?? info.gid, home: info.homedir, shell: info.shell ?? '/bin/sh' };
}

export const isRoot = (): boolean => process.getuid?.() === 0;

export interface UserChoice {
  mode: 'standalone' | 'scgi';
  user?: string | undefined;
  group?: string | undefined;
  defaultUser: string;
  defaultGroup?: string | undefined;
  startupFile: string;
}

function mustFindUser(name: string, key: string): UserIdentity {
  const u = lookupUser(/^\d+$/.test(name) ? Number(name) : name);
  if (!u) throw new PassengerError('PSG_ERR_CONFIG_TYPE', `${key}: user "${name}" does not exist on this system`, { key });
  return u;
}

function withGroup(u: UserIdentity, group: string | undefined, key: string): UserIdentity {
  if (group === undefined) return u;
  const gid = /^\d+$/.test(group) ? Number(group) : lookupGroupId(group);
  if (gid === undefined) throw new PassengerError('PSG_ERR_CONFIG_TYPE', `${key}: group "${group}" does not exist on this system`, { key });
  return { ...u, gid };
}

/** The identity to run an app as; `undefined` uid means "stay who we are". */
export function chooseAppUser(choice: UserChoice): UserIdentity {
  const me = currentUser();
  if (choice.user !== undefined) {
    const u = withGroup(mustFindUser(choice.user, 'user'), choice.group, 'group');
    if (!isRoot() && u.uid !== me.uid) {
      throw new PassengerError('PSG_ERR_CONFIG_TYPE', `user: running the app as "${choice.user}" needs the server to run as root (it runs as ${me.name})`, { key: 'user' });
    }
    return u;
  }
  if (!isRoot() || choice.mode === 'standalone') return withGroup(me, isRoot() ? choice.group : undefined, 'group');
  let ownerUid = 0;
  try { ownerUid = statSync(choice.startupFile).uid; } catch { /* missing file: the default user */ }
  const owner = ownerUid !== 0 ? lookupUser(ownerUid) : undefined;
  if (owner) return withGroup(owner, choice.group, 'group');
  return withGroup(mustFindUser(choice.defaultUser, 'default_user'), choice.group ?? choice.defaultGroup, 'default_group');
}
