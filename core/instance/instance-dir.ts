// The instance directory: private (0700) and unique per running instance, so
// several instances on one machine never touch each other's files. Removed
// when the instance stops. Passenger's layout: properties.json, sockets,
// password files, backends/ for app sockets.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INSTANCE_PREFIX = 'passenger.';

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
  adminSocket?: string;
}

export class InstanceDir {
  readonly path: string;
  constructor(path: string) { this.path = path; }

  get name(): string { return this.path.slice(this.path.lastIndexOf('/') + 1 + INSTANCE_PREFIX.length); }
  get backends(): string { return join(this.path, 'backends'); }
  get propertiesFile(): string { return join(this.path, 'properties.json'); }
  file(name: string): string { return join(this.path, name); }

  static create(registryDir: string = tmpdir()): InstanceDir {
    mkdirSync(registryDir, { recursive: true });
    const dir = new InstanceDir(mkdtempSync(join(registryDir, INSTANCE_PREFIX))); // mkdtemp makes it 0700
    mkdirSync(dir.backends, { mode: 0o700 });
    return dir;
  }

  writeProperties(p: InstanceProperties): void {
    writeFileSync(this.propertiesFile, JSON.stringify(p, null, 2) + '\n', { mode: 0o600 });
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

  remove(): void {
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
