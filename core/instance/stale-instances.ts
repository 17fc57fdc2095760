// Instance directories whose watchdog and core were both killed (SIGKILL, or
// a machine losing power) have no process left to remove them: the next
// server started on the same registry does, as Passenger does. Only ours: a
// real directory (never a link) owned by the user we run as, whose properties
// name a watchdog and a core that are both gone. One without properties (an
// instance still starting) is left alone; a PID reused by another process
// only keeps a stale directory a little longer.
import { lstatSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive } from '../spawn/kill.ts';
import { INSTANCE_PREFIX, InstanceDir } from './instance-dir.ts';

/** Removes the stale instance directories in `registryDir`; returns their names and the watchdog PID each named. */
export function removeStaleInstances(registryDir: string = tmpdir()): { name: string; watchdogPid: number }[] {
  const removed: { name: string; watchdogPid: number }[] = [];
  let names: string[];
  try { names = readdirSync(registryDir); } catch { return removed; }
  const uid = process.geteuid?.();
  for (const name of names) {
    // passenger.XXXXXX only: the .u<uid>-XXXXXX siblings are removed with their instance.
    if (!name.startsWith(INSTANCE_PREFIX) || name.includes('.', INSTANCE_PREFIX.length)) continue;
    const path = join(registryDir, name);
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || st.uid !== uid) continue;
      const dir = new InstanceDir(path);
      const { watchdogPid, corePid } = dir.readProperties();
      if (!Number.isInteger(watchdogPid) || isAlive(watchdogPid) || (corePid !== undefined && isAlive(corePid))) continue;
      dir.remove();
      removed.push({ name, watchdogPid });
    } catch {
      // no properties yet (starting), unreadable, or removed meanwhile: not stale, or not ours to judge
    }
  }
  return removed;
}
