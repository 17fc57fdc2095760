// One OS process of an app. Two status fields answer different questions:
// `life` (is it running?) and `enabled` (may the pool route to it?).
//   enabled   - takes new requests
//   disabling - finishes its requests; takes new ones only if no enabled process exists
//   disabled  - takes nothing; shut down once idle
//   detached  - removed from its group (crashed, evicted, shut down)
import type { Logger } from '../log/logger.ts';
import type { ForwardTarget, Protocol } from '../registries/protocols.ts';
import type { ExitStatus, SpawnedProcess } from '../spawn/spawn-process.ts';
import { killProcessGroup } from '../spawn/kill.ts';
import type { ExitInfo } from '../hooks.ts';

/** Why a process stops taking requests: what processExited reports as its reason. */
export type RetireReason = ExitInfo['reason'];

export type LifeStatus = 'alive' | 'shutdownTriggered' | 'dead';
export type EnabledStatus = 'enabled' | 'disabling' | 'disabled' | 'detached';

export class AppProcess {
  readonly pid: number;
  readonly spawned: SpawnedProcess;
  readonly protocol: Protocol;
  readonly target: ForwardTarget;
  readonly concurrency: number;
  readonly generation: number;
  readonly spawnedAt = Date.now();
  life: LifeStatus = 'alive';
  enabled: EnabledStatus = 'enabled';
  sessions = 0;
  processed = 0;
  lastUsed = Date.now();
  cpu = 0;
  rssBytes = 0;
  /** User and system CPU time used so far, from the same measurement. */
  cpuSeconds = 0;
  /** Client connections handed to it (connection_handoff, server/http/connection-handoff.ts) that it has not reported closed yet. */
  handedConnections = 0;
  /** Why it is being replaced, once it is. */
  retireReason: RetireReason | undefined;

  /** forcedConcurrency: force_max_concurrent_requests_per_process, which overrides what the process reported. */
  constructor(spawned: SpawnedProcess, protocol: Protocol, log: Logger, generation: number, baseUri: string, forcedConcurrency?: number) {
    this.pid = spawned.pid;
    this.spawned = spawned;
    this.protocol = protocol;
    const socket = spawned.sockets[0]!;
    this.concurrency = forcedConcurrency ?? socket.concurrency;
    this.generation = generation;
    this.target = {
      socket,
      connectPassword: spawned.command.handshake.connect_password ?? '',
      pid: spawned.pid,
      baseUri,
      appRoot: spawned.command.handshake.app_root ?? spawned.command.cwd,
      startupFile: spawned.command.handshake.startup_file ?? '',
      log: log.child(`[${this.pid}]`),
    };
  }

  get exited(): Promise<ExitStatus> { return this.spawned.exited; }

  /** Whether client connections can be handed to it now (connection_handoff). */
  acceptsConnections(): boolean {
    return this.enabled === 'enabled' && this.life === 'alive' && this.spawned.channel?.connected === true;
  }

  /** Sessions relative to capacity; unlimited processes compare by session count. */
  busyness(): number {
    return this.concurrency === 0 ? this.sessions : this.sessions / this.concurrency;
  }

  isTotallyBusy(): boolean {
    return this.concurrency !== 0 && this.sessions >= this.concurrency;
  }

  /**
   * Stops the process: the shutdown byte on stdin (loaders exit on it), then
   * SIGTERM to its process group, then SIGKILL. Resolves once it has exited.
   */
  async shutdown(graceMs: number): Promise<ExitStatus> {
    if (this.life === 'alive') {
      this.life = 'shutdownTriggered';
      // Idle kept-alive connections would keep loader threads waiting for another request.
      this.protocol.release?.(this.target);
      const speaksHandshake = this.spawned.command.readiness.kind === 'handshake';
      if (speaksHandshake) {
        try { this.spawned.child.stdin?.end('x'); } catch { /* already closed */ }
      } else {
        killProcessGroup(this.pid, 'SIGTERM');
      }
      const t1 = setTimeout(() => killProcessGroup(this.pid, 'SIGTERM'), speaksHandshake ? graceMs : 0);
      const t2 = setTimeout(() => killProcessGroup(this.pid, 'SIGKILL'), graceMs + 3000);
      t1.unref(); t2.unref();
      this.spawned.exited.finally(() => { clearTimeout(t1); clearTimeout(t2); });
    }
    const status = await this.spawned.exited;
    this.life = 'dead';
    // Whatever the app left in its process group goes with it.
    killProcessGroup(this.pid, 'SIGKILL');
    return status;
  }

  /** Ends it at once (stuck request, pool forced stop). */
  kill(): void {
    this.life = 'shutdownTriggered';
    killProcessGroup(this.pid, 'SIGKILL');
  }
}
