// Finding the instance a CLI command is about: the registry directory holds
// one directory per running instance; with several, the one serving the app
// directory the command names (or runs inside) is chosen, else the user must
// choose (--instance NAME) and is shown the names. Directories whose watchdog
// is gone (killed with SIGKILL) are stale and never chosen.
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve, sep } from 'node:path';
import { PassengerError } from '../errors/passenger-error.ts';
import { listInstanceDirs, type InstanceDir, type InstanceProperties } from '../instance/instance-dir.ts';
import { isAlive } from '../spawn/kill.ts';

export interface FoundInstance {
  dir: InstanceDir;
  properties: InstanceProperties;
}

export function registryDirFrom(flags: Record<string, string | boolean>, env: NodeJS.ProcessEnv = process.env): string {
  const flag = flags.instance_registry_dir;
  if (typeof flag === 'string' && flag) return flag;
  return env.PASSENGER_INSTANCE_REGISTRY_DIR || tmpdir();
}

export function runningInstances(registryDir: string): FoundInstance[] {
  const found: FoundInstance[] = [];
  for (const dir of listInstanceDirs(registryDir)) {
    try {
      const properties = dir.readProperties();
      if (isAlive(properties.watchdogPid)) found.push({ dir, properties });
    } catch {
      // unreadable (another user's instance) or being written: not ours to use
    }
  }
  return found.sort((a, b) => a.properties.createdAt.localeCompare(b.properties.createdAt));
}

function describe(list: FoundInstance[]): string {
  return list.map((i) => `  ${i.dir.name}  (pid ${i.properties.watchdogPid}, ${i.properties.apps.join(', ') || 'no apps yet'})`).join('\n');
}

/** Symlinks resolved, as app roots are recorded; the path as given when it does not exist. */
function canonical(dir: string): string {
  try { return realpathSync(resolve(dir)); } catch { return resolve(dir); }
}

/** Whether `dir` is the app root or inside it. */
function within(dir: string, appRoot: string): boolean {
  return dir === appRoot || dir.startsWith(appRoot.endsWith(sep) ? appRoot : appRoot + sep);
}

/** The instances serving the app at (or above) `dir`. */
export function instancesServing(all: FoundInstance[], dir: string): FoundInstance[] {
  const here = canonical(dir);
  return all.filter((i) => i.properties.apps.some((root) => within(here, root)));
}

/**
 * `name` (--instance) wins; else the only running instance; else the one
 * serving the app directory `dir` (named on the command line, or the working
 * directory); else the user is asked to choose.
 */
export function selectInstance(registryDir: string, name: string | undefined, dir?: { path: string; explicit: boolean }): FoundInstance {
  const all = runningInstances(registryDir);
  if (name !== undefined) {
    const hit = all.find((i) => i.dir.name === name);
    if (hit) return hit;
    throw new PassengerError('PSG_ERR_INSTANCE_NOT_FOUND',
      `no running instance named ${name} in ${registryDir}${all.length ? `; running:\n${describe(all)}` : ''}`, { name });
  }
  if (all.length === 1) return all[0]!;
  if (all.length === 0) {
    throw new PassengerError('PSG_ERR_INSTANCE_NOT_FOUND', `no passenger instance is running (looked in ${registryDir}; set --instance-registry-dir if it was started with one)`);
  }
  const serving = dir ? instancesServing(all, dir.path) : [];
  if (serving.length === 1) return serving[0]!;
  const where = !dir ? '' : serving.length > 1
    ? `, ${serving.length} of them serve ${canonical(dir.path)}`
    : `, none serves ${dir.explicit ? canonical(dir.path) : `the current directory (${canonical(dir.path)})`}`;
  const list = serving.length > 1 ? serving : all;
  throw new PassengerError('PSG_ERR_INSTANCE_AMBIGUOUS', `${all.length} instances are running${where}; choose one with --instance NAME${dir && serving.length === 0 ? ', or run this in (or name) an app directory' : ''}:\n${describe(list)}`);
}
