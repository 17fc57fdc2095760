// Starts a server under test in its own process group and stops it by PID:
// the group gets SIGTERM, then SIGKILL if anything is still there. Output is
// kept (the tail) for error messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { isAlive } from './tree.ts';

export interface Launched {
  child: ChildProcess;
  pid: number;
  startedAt: number;
  output(): string;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once the leader exited. */
  stop(graceMs?: number): Promise<void>;
}

const OUTPUT_TAIL = 16 * 1024;

export function launch(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Launched {
  const startedAt = performance.now();
  const child = spawn(command, args, {
    cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString()).slice(-OUTPUT_TAIL); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(); else child.once('exit', () => r());
  });
  child.once('error', (e) => { out += `\n${e.message}`; });
  const pid = child.pid ?? -1;
  return {
    child, pid, startedAt,
    output: () => out,
    async stop(graceMs = 10_000) {
      if (pid <= 0) return;
      signalGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Whatever the leader left in its group goes too.
      if (isAlive(-pid)) signalGroup(pid, 'SIGKILL');
    },
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* the group is gone */ }
}

/** Runs a command to completion (with a time limit); resolves with its exit code and output. */
export function runToEnd(command: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: null, output: out + e.message }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output: out }); });
  });
}
