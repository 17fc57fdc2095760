// Finds the processes a test started, however deep: each server or loader
// the test kit starts gets a random token in its environment, which every
// process it spawns inherits (Linux: read from /proc/<pid>/environ).
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

export const TOKEN_VARIABLE = 'PASSENGER_TESTKIT_TOKEN';

export interface ProcessInfo { pid: number; command: string }

export function newToken(): string {
  return randomBytes(8).toString('hex');
}

/** Live processes (zombies excluded) whose environment carries `token`. */
export function processesWithToken(token: string): ProcessInfo[] {
  const needle = `${TOKEN_VARIABLE}=${token}\0`;
  const found: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').includes(needle)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // exited, waiting for its parent's wait()
      found.push({ pid, command: readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim() });
    } catch {
      // gone while we looked, or not ours to read
    }
  }
  return found;
}

/**
 * Waits up to `ms` for every process carrying `token` to exit; the ones
 * still alive then are killed (SIGKILL) and returned, so that a failing
 * test leaves nothing behind either.
 */
export async function reapLeftovers(token: string, ms = 5000): Promise<ProcessInfo[]> {
  const deadline = Date.now() + ms;
  let left = processesWithToken(token);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = processesWithToken(token);
  }
  for (const p of left) {
    try { process.kill(p.pid, 'SIGKILL'); } catch { /* exited meanwhile */ }
  }
  return left;
}

export class LeftoverProcessesError extends Error {
  readonly processes: ProcessInfo[];
  constructor(what: string, processes: ProcessInfo[]) {
    super(`${what} left ${processes.length} process(es) behind (now killed):\n${processes.map((p) => `  ${p.pid} ${p.command}`).join('\n')}`);
    this.name = 'LeftoverProcessesError';
    this.processes = processes;
  }
}
