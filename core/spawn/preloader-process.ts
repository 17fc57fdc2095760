// A running preloader: started like a loader (same stdin/stdout handshake),
// it reports a command socket instead of an app socket and forks app
// processes on request (docs/protocols.md section "Preloader").
import type { Logger } from '../log/logger.ts';
import type { SpawnCommand } from './spawn-command.ts';
import { spawnProcess, type ExitStatus, type SpawnedProcess } from './spawn-process.ts';
import { forkFromPreloader } from './preloader-child.ts';
import { SpawnFailure } from './spawn-failure.ts';
import { isAlive, killProcessGroup } from './kill.ts';

const EXIT_POLL_MS = 250;

/**
 * Resolves once `pid` is gone. The loader's own exit promise is not enough:
 * forked children inherit the preloader's stderr, and its 'close' waits for
 * that pipe to close, which it does only when the last child exits.
 */
function gone(pid: number): Promise<ExitStatus> {
  return new Promise((resolve) => {
    const check = () => {
      if (!isAlive(pid)) { resolve({ code: null, signal: null }); return; }
      setTimeout(check, EXIT_POLL_MS).unref();
    };
    check();
  });
}

/** The protocol name a preloader reports on its socket line. */
export const PRELOADER_PROTOCOL = 'preloader';

export class Preloader {
  readonly pid: number;
  readonly socketPath: string;
  readonly exited: Promise<ExitStatus>;
  readonly #process: SpawnedProcess;
  readonly #password: string;
  #alive = true;

  private constructor(process: SpawnedProcess, socketPath: string) {
    this.#process = process;
    this.pid = process.pid;
    this.socketPath = socketPath;
    this.#password = process.command.handshake.connect_password ?? '';
    this.exited = Promise.race([process.exited, gone(process.pid)]).then((s) => { this.#alive = false; return s; });
  }

  /** Starts one and waits until the app is loaded; a load error is the app's SpawnFailure. */
  static async start(cmd: SpawnCommand, log: Logger, name: string): Promise<Preloader> {
    const spawned = await spawnProcess(cmd, log, name);
    const socket = spawned.sockets[0]!;
    if (socket.protocol !== PRELOADER_PROTOCOL || !socket.address.startsWith('unix:/')) {
      killProcessGroup(spawned.pid, 'SIGKILL');
      await spawned.exited;
      throw new SpawnFailure('PSG_ERR_SPAWN_PROTOCOL', {
        summary: `the preloader reported "${socket.name};${socket.address};${socket.protocol}", expected a unix socket with protocol "${PRELOADER_PROTOCOL}"`,
        category: 'internal', journey: [], output: spawned.output.lines, detail: '', properties: {}, command: cmd,
      });
    }
    return new Preloader(spawned, socket.address.slice('unix:'.length));
  }

  get alive(): boolean { return this.#alive; }

  get startDurationMs(): number { return this.#process.spawnDurationMs; }

  /** Forks one app process; `command` carries that process's own handshake keys. */
  fork(command: SpawnCommand, log: Logger, appName: string): Promise<SpawnedProcess> {
    return forkFromPreloader({ socketPath: this.socketPath, password: this.#password, command, log, appName });
  }

  /**
   * Stops it like a loader: the shutdown byte on stdin, then SIGTERM and
   * SIGKILL to its process group. Its forked processes live on: each is in
   * its own session and belongs to the pool.
   */
  async stop(graceMs = 5000): Promise<ExitStatus> {
    if (this.#alive) {
      try { this.#process.child.stdin?.end('x'); } catch { /* already closed */ }
      const t1 = setTimeout(() => killProcessGroup(this.pid, 'SIGTERM'), graceMs);
      const t2 = setTimeout(() => killProcessGroup(this.pid, 'SIGKILL'), graceMs + 3000);
      t1.unref(); t2.unref();
      void this.exited.finally(() => { clearTimeout(t1); clearTimeout(t2); });
    }
    return this.exited;
  }

  /** Ends it at once (a failed start, a forced stop). */
  kill(): void {
    killProcessGroup(this.pid, 'SIGKILL');
  }
}
