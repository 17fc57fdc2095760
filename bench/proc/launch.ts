// Starts a server under test in its own process group and stops it by PID:
// the group gets SIGTERM, then SIGKILL if anything is still there. Output is
// kept (the tail) for error messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { execa } from 'execa';
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

/**
 * Runs a short command to completion (peers' --version and stop, the build, the installer),
 * with a time limit; resolves with its exit code and interleaved output. execa: a command that
 * hangs past the limit is killed (SIGKILL 2 s after SIGTERM), and one that cannot start says why.
 * `interruptAfterMs` sends SIGINT at that moment, for tools that then stop early and still
 * report (wrk: its runs otherwise last whole seconds).
 */
export async function runToEnd(command: string, args: string[], opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; interruptAfterMs?: number } = {}): Promise<{ code: number | null; output: string }> {
  const running = execa(command, args, {
    cwd: opts.cwd, env: opts.env ?? process.env, extendEnv: false, stdin: 'ignore', all: true, reject: false,
    timeout: opts.timeoutMs ?? 60_000, forceKillAfterDelay: 2000,
  });
  const interrupt = opts.interruptAfterMs === undefined ? undefined : setTimeout(() => running.kill('SIGINT'), opts.interruptAfterMs);
  const r = await running;
  clearTimeout(interrupt);
  const code = r.exitCode ?? null;
  return { code: r.timedOut ? null : code, output: r.failed && r.exitCode === undefined ? [r.all, r.shortMessage].filter(Boolean).join('\n') : r.all ?? '' };
}
