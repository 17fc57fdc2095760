// The instance directory: private (0700) and unique per running instance, so
// several instances on one machine never touch each other's files. Removed
// when the instance stops. Passenger's layout: properties.json, sockets,
// password files, backends/ for app sockets.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { webServerGroupId } from './web-server-group.ts';
import { makePrivateDir } from './private-dir.ts';

export const INSTANCE_PREFIX = 'passenger.';
/** Between an instance directory's name and a socket directory made for another user: `passenger.XXXXXX.u<uid>-XXXXXX`. */
const USER_BACKENDS_INFIX = '.u';

export interface InstanceProperties {
  name: string;
  version: string;
  watchdogPid: number;
  corePid?: number;
  createdAt: string;
  address?: string;
  port?: number;
  apps: string[];
  scgiSocket?: string;
  /** Also listening for SCGI on TCP (host:port), when --scgi-address was given. */
  scgiAddress?: string;
  adminSocket?: string;
  /** scgi_secret_file, when the secret is kept across restarts. */
  scgiSecretFile?: string;
}

export interface AdminPasswords {
  readOnly: string;
  full: string;
}

const READ_ONLY_PASSWORD_FILE = 'read_only_admin_password.txt';
const FULL_PASSWORD_FILE = 'full_admin_password.txt';
/** Sent by the front web server with every SCGI request (scgi_param PASSENGER_SCGI_SECRET), so no other process with access to request.sock can choose apps and options. */
const SCGI_SECRET_FILE = 'scgi_secret.txt';

export class InstanceDir {
  readonly path: string;
  /** Socket directories made for other users, by "uid:gid". */
  readonly #userBackends = new Map<string, string>();
  constructor(path: string) { this.path = path; }

  get name(): string { return this.path.slice(this.path.lastIndexOf('/') + 1 + INSTANCE_PREFIX.length); }
  get backends(): string { return join(this.path, 'backends'); }
  /** Request bodies and responses buffered on disk, each removed after its request. */
  get buffers(): string { return join(this.path, 'buffers'); }
  get propertiesFile(): string { return join(this.path, 'properties.json'); }
  /** SCGI requests from the front web server. */
  get requestSocket(): string { return join(this.path, 'request.sock'); }
  get adminSocket(): string { return join(this.path, 'admin.sock'); }
  file(name: string): string { return join(this.path, name); }

  static create(registryDir: string = tmpdir()): InstanceDir {
    mkdirSync(registryDir, { recursive: true });
    // Web server workers (group www-data) must reach request.sock, and nothing else: the directory
    // lets that group pass through (no listing), and every file in it is ours alone but that socket.
    const gid = process.getuid?.() === 0 ? webServerGroupId() : undefined;
    const prefix = join(registryDir, INSTANCE_PREFIX);
    const dir = new InstanceDir(gid !== undefined ? makePrivateDir(prefix, 0o710, { uid: 0, gid }) : makePrivateDir(prefix, 0o700));
    mkdirSync(dir.backends, { mode: 0o700 });
    dir.#createPasswords();
    return dir;
  }

  #createPasswords(): void {
    for (const f of [READ_ONLY_PASSWORD_FILE, FULL_PASSWORD_FILE, SCGI_SECRET_FILE]) {
      writeFileSync(this.file(f), randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    }
  }

  /** The admin API's passwords; throws when this user may not read them. */
  readPasswords(): AdminPasswords {
    const read = (f: string) => readFileSync(this.file(f), 'utf8').trim();
    return { readOnly: read(READ_ONLY_PASSWORD_FILE), full: read(FULL_PASSWORD_FILE) };
  }

  /** The secret SCGI requests must carry; throws when this user may not read it. */
  readScgiSecret(): string {
    return readFileSync(this.file(SCGI_SECRET_FILE), 'utf8').trim();
  }

  /** Replaces the generated secret with a deployment's own (scgi_secret_file), before the core reads it. */
  writeScgiSecret(secret: string): void {
    writeFileSync(this.file(SCGI_SECRET_FILE), secret + '\n', { mode: 0o600 });
  }

  /** Written to a temporary name and renamed, so readers never see half a file. */
  writeProperties(p: InstanceProperties): void {
    const tmp = this.file(`.properties.${process.pid}.tmp`);
    writeFileSync(tmp, JSON.stringify(p, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, this.propertiesFile);
  }

  readProperties(): InstanceProperties {
    return JSON.parse(readFileSync(this.propertiesFile, 'utf8')) as InstanceProperties;
  }

  /** Keeps /tmp cleaners from deleting a long-running instance's files. */
  touch(): void {
    const now = new Date();
    for (const f of ['', ...readdirSync(this.path)]) {
      try { utimesSync(join(this.path, f), now, now); } catch { /* vanished */ }
    }
  }

  /**
   * A socket directory for apps running as another user: a sibling of the
   * instance directory (which that user cannot enter), private to that user.
   * Its name is random: the registry directory may be writable by that user
   * (/tmp), who must not be able to plant a link where root will chown.
   */
  userBackends(uid: number, gid: number): string {
    const key = `${uid}:${gid}`;
    let dir = this.#userBackends.get(key);
    if (dir === undefined) {
      // Short: app sockets inside must stay under the 107-byte limit of a socket path.
      dir = makePrivateDir(`${this.path}${USER_BACKENDS_INFIX}${uid}-`, 0o700, { uid, gid });
      this.#userBackends.set(key, dir);
    }
    return dir;
  }

  remove(): void {
    // Other users' socket directories are theirs, in a registry they may write: moved into our
    // private directory first (rename never follows a link), where no one can swap them for a
    // link to elsewhere while they are removed.
    const parent = dirname(this.path);
    const prefix = `${basename(this.path)}${USER_BACKENDS_INFIX}`;
    for (const n of readdirSync(parent)) {
      if (!n.startsWith(prefix)) continue;
      try { renameSync(join(parent, n), join(this.path, n)); } catch { /* gone already */ }
    }
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Instance directories in a registry dir whose properties file can be read by us. */
export function listInstanceDirs(registryDir: string = tmpdir()): InstanceDir[] {
  let names: string[];
  try { names = readdirSync(registryDir); } catch { return []; }
  return names
    .filter((n) => n.startsWith(INSTANCE_PREFIX))
    .map((n) => new InstanceDir(join(registryDir, n)))
    .filter((d) => { try { return statSync(d.propertiesFile).isFile(); } catch { return false; } });
}
