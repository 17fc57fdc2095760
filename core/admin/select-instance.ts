// Finding the instance a CLI command is about: the registry directory holds
// one directory per running instance; with several, the user must choose
// (--instance NAME), and is shown the names. Directories whose watchdog is
// gone (killed with SIGKILL) are stale and never chosen.
import { tmpdir } from 'node:os';
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

export function selectInstance(registryDir: string, name: string | undefined): FoundInstance {
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
  throw new PassengerError('PSG_ERR_INSTANCE_AMBIGUOUS', `${all.length} instances are running; choose one with --instance NAME:\n${describe(all)}`);
}
