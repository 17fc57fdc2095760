import { readFileSync } from 'node:fs';

/** Signals a whole process group (apps run in their own); quiet when it is already gone. */
export function killProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try { process.kill(pid, signal); return true; } catch { return false; }
  }
}

/** States of a process that has exited: a zombie waiting to be reaped (a killed child is one, briefly), or one being reaped right now. */
const EXITED_STATES = new Set(['Z', 'X', 'x']);

/** Whether a process exists and has not exited. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // A zombie's parent reaping it turns it to X (dead) for a moment, while kill(0) still finds it:
    // seen once as a process "alive" again right after it was found exited (a zombie).
    return !EXITED_STATES.has(stat[stat.lastIndexOf(')') + 2]!);
  } catch {
    return true; // no /proc: trust kill(0)
  }
}
