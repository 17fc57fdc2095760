// Reading a running instance's directory in specs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningPassenger } from '../../support/passenger.ts';
import type { InstanceProperties } from '../../../core/instance/instance-dir.ts';

export function instancePath(p: RunningPassenger): string {
  const dirs = p.instanceDirs();
  if (dirs.length !== 1) throw new Error(`expected one instance directory, found ${dirs.length}`);
  return join(p.registryDir, dirs[0]!);
}

export function properties(p: RunningPassenger): InstanceProperties {
  return JSON.parse(readFileSync(join(instancePath(p), 'properties.json'), 'utf8')) as InstanceProperties;
}

export function password(p: RunningPassenger, kind: 'read_only' | 'full'): string {
  return readFileSync(join(instancePath(p), `${kind}_admin_password.txt`), 'utf8').trim();
}

/** The secret the generated nginx configuration sends with every SCGI request. */
export function scgiSecret(p: RunningPassenger): string {
  return readFileSync(join(instancePath(p), 'scgi_secret.txt'), 'utf8').trim();
}

export function pidGone(pid: number): boolean {
  try { process.kill(pid, 0); return false; } catch (e) { return (e as NodeJS.ErrnoException).code === 'ESRCH'; }
}

export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LoadResult { ok: number; failed: number }

/**
 * `clients` loops sending requests until stop() or `maxPerClient` each: bounded in count. A client
 * waits a little after a failure, as real ones do, so a short refusal window is not counted hundreds of times.
 */
export function loadLoop(send: () => Promise<boolean>, clients: number, maxPerClient: number): { stop(): Promise<LoadResult>; counts: LoadResult } {
  const counts = { ok: 0, failed: 0 };
  let stopped = false;
  const loops = Array.from({ length: clients }, async () => {
    for (let i = 0; i < maxPerClient && !stopped; i++) {
      if (await send().catch(() => false)) counts.ok++;
      else { counts.failed++; await new Promise((r) => setTimeout(r, 50)); }
    }
  });
  return { counts, async stop() { stopped = true; await Promise.all(loops); return counts; } };
}
