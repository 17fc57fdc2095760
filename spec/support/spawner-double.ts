// A spawner double for the pool's scheduling specs (pure logic: no process is
// started). Its "processes" use PIDs above Linux's pid_max, so no signal the
// pool sends can reach a real process; they "exit" when told to shut down or
// when a spec crashes them.
import type { Spawner } from '../../core/spawn/spawner.ts';
import type { SpawnedProcess, ExitStatus } from '../../core/spawn/spawn-process.ts';
import type { AppSpec } from '../../core/config/app-spec.ts';
import { OutputTail } from '../../core/spawn/output-lines.ts';
import { SpawnFailure } from '../../core/spawn/spawn-failure.ts';

const FAKE_PID_BASE = 5_000_000; // above pid_max (4194304 at most on Linux)

export interface FakeProcess {
  pid: number;
  app: AppSpec;
  exit(status?: ExitStatus): void;
  shutdownRequested: boolean;
}

export class SpawnerDouble implements Spawner {
  readonly spawned: FakeProcess[] = [];
  /** Concurrency each new process reports. */
  concurrency = 1;
  /** When set, spawns fail with this summary. */
  failWith: string | undefined;
  /** Spawns wait for release() when true. */
  hold = false;
  #nextPid = FAKE_PID_BASE;
  #held: (() => void)[] = [];

  release(): void {
    for (const r of this.#held.splice(0)) r();
  }

  get alive(): FakeProcess[] { return this.spawned.filter((p) => !p.shutdownRequested); }

  async spawn(app: AppSpec): Promise<SpawnedProcess> {
    if (this.hold) await new Promise<void>((r) => this.#held.push(r));
    if (this.failWith) {
      throw new SpawnFailure('PSG_ERR_SPAWN_FAILED', { summary: this.failWith, category: 'app', detail: '', output: [], properties: {}, journey: [] });
    }
    const pid = this.#nextPid++;
    let exit!: (s: ExitStatus) => void;
    const exited = new Promise<ExitStatus>((r) => { exit = r; });
    const fake: FakeProcess = { pid, app, shutdownRequested: false, exit: (s = { code: null, signal: 'SIGKILL' }) => exit(s) };
    this.spawned.push(fake);
    const stdin = { end: () => { fake.shutdownRequested = true; exit({ code: 0, signal: null }); } };
    return {
      pid,
      child: { stdin, kill: () => exit({ code: null, signal: 'SIGKILL' }) } as unknown as SpawnedProcess['child'],
      sockets: [{ name: 'main', address: `unix:/nonexistent/${pid}.sock`, protocol: 'session', concurrency: this.concurrency }],
      command: { command: 'double', args: [], cwd: app.appRoot, env: {}, handshake: { connect_password: 'x' }, readiness: { kind: 'handshake' }, user: 'nobody', startTimeoutMs: 1000 },
      output: new OutputTail(),
      exited,
      spawnDurationMs: 1,
    };
  }

  async close(): Promise<void> {}
}
