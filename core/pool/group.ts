// One application: its processes, its request queue, its spawn loop and its
// restarts. All state changes happen in synchronous methods; anything that
// awaits re-checks `#generation` and `#shuttingDown` afterwards.
//
// Invariants (invariants.ts; checked by assertInvariants after every
// scheduling step when the pool verifies them, as the specs do), among them:
// - every process in #processes is enabled, disabling or disabled; detached ones are gone
// - a waiter is queued only while no routable process has a free slot
// - at most one spawn per group runs at a time (#spawning is 0 or 1)
// - a retired process that is idle has been told to stop
import { join } from 'node:path';
import type { AppSpec } from '../config/app-spec.ts';
import type { Kernel } from '../kernel.ts';
import type { Logger } from '../log/logger.ts';
import type { ErrorReport } from '../errors/report.ts';
import { PassengerError, describeError } from '../errors/passenger-error.ts';
import type { Spawner } from '../spawn/spawner.ts';
import { isAlive } from '../spawn/kill.ts';
import type { ExitInfo } from '../hooks.ts';
import { AppProcess, type RetireReason } from './app-process.ts';
import { assertGroupInvariants } from './invariants.ts';
import { forgetLoggedErrors } from '../error-reports/logged-errors.ts';
import { Session, type PendingSession } from './session.ts';
import { RequestQueue, type Waiter } from './request-queue.ts';
import { RestartFiles } from './restart-files.ts';
import { processStats, type GroupStats } from './stats.ts';

/** What a group needs from its pool. */
export interface GroupHost {
  kernel: Kernel;
  spawner: Spawner;
  log: Logger;
  /** Grace period for a process to exit after the shutdown byte, in ms. */
  processGraceMs: number;
  /** Asks for room for one more process; false means "wait for capacityFreed". */
  reserveCapacity(group: Group): boolean;
  /** A process of this group went away. */
  capacityFreed(): void;
  /** A slot of this group was released: apps waiting for capacity may now evict an idle process. */
  sessionReleased(group: Group): void;
  /** Re-reads the app's configuration on restart. */
  refreshSpec(group: Group): Promise<AppSpec>;
  /** Check the invariants after every scheduling step (specs). */
  verifyInvariants?: boolean;
}

/** A request could not be served because the app cannot start; carries the report for the error page. */
export class AppFailedError extends PassengerError {
  readonly report: ErrorReport;
  constructor(report: ErrorReport) {
    super('PSG_ERR_POOL_APP_FAILED', `${report.appRoot} cannot start: ${report.summary}`, { errorId: report.id });
    this.report = report;
  }
}

const MAX_BACKOFF_MS = 30_000;

export class Group {
  spec: AppSpec;
  readonly #host: GroupHost;
  readonly #log: Logger;
  readonly #processes: AppProcess[] = [];
  readonly #queue = new RequestQueue();
  #spawning = 0;
  /** Settles when the running spawn ends; waiting on it replaces polling #spawning. */
  #spawnFinished: Promise<void> = Promise.resolve();
  #resolveSpawnFinished: (() => void) | undefined;
  #openSessions = 0;
  #generation = 0;
  #restarting = false;
  #shuttingDown = false;
  #failures = 0;
  #nextSpawnAt = 0;
  #lastError: ErrorReport | undefined;
  readonly #restartFiles: RestartFiles;
  #retryTimer: NodeJS.Timeout | undefined;
  readonly #release = (p: AppProcess, healthy: boolean) => this.#onRelease(p, healthy);

  constructor(spec: AppSpec, host: GroupHost) {
    this.spec = spec;
    this.#host = host;
    this.#log = host.log.child(`[${spec.name}]`);
    this.#restartFiles = new RestartFiles(join(spec.appRoot, spec.options.restart_dir));
  }

  get appRoot(): string { return this.spec.appRoot; }
  get processes(): readonly AppProcess[] { return this.#processes; }
  get spawning(): number { return this.#spawning; }
  get queueLength(): number { return this.#queue.length; }
  get lastError(): ErrorReport | undefined { return this.#lastError; }
  /** Processes that count against max_pool_size: running ones and the one being spawned. */
  get footprint(): number { return this.#processes.length + this.#spawning; }

  /**
   * A session on the least busy process with a free slot, at once when one is
   * free (no promise on the fast path), else after waiting in the queue.
   */
  checkout(): Session | PendingSession {
    this.checkRestartFiles();
    if (this.#shuttingDown) return Promise.reject(new PassengerError('PSG_ERR_POOL_SHUTTING_DOWN', 'the server is shutting down'));
    if (this.#queue.length === 0) {
      const p = this.#route();
      if (p) return this.#stepped(this.#open(p));
    }
    if (this.#lastError && !this.#hasRoutable() && Date.now() < this.#nextSpawnAt) {
      return Promise.reject(new AppFailedError(this.#lastError));
    }
    const max = this.spec.options.max_request_queue_size;
    if (max > 0 && this.#queue.length >= max) {
      this.#host.kernel.hooks.queueFull.call({ appRoot: this.appRoot, queueLength: this.#queue.length });
      return Promise.reject(new PassengerError('PSG_ERR_POOL_QUEUE_FULL',
        `the request queue of ${this.spec.name} is full (max_request_queue_size ${max})`, { appRoot: this.appRoot }));
    }
    let waiter!: Waiter;
    const pending: PendingSession = new Promise<Session>((resolve, reject) => {
      waiter = { resolve, reject, enqueuedAt: Date.now() };
      const timeout = this.spec.options.request_queue_timeout;
      if (timeout > 0) {
        waiter.timer = setTimeout(() => {
          if (this.#queue.remove(waiter)) {
            reject(new PassengerError('PSG_ERR_POOL_QUEUE_TIMEOUT', `waited ${timeout} s in the queue of ${this.spec.name} (request_queue_timeout)`, { appRoot: this.appRoot }));
          }
        }, timeout * 1000);
        waiter.timer.unref();
      }
      this.#queue.push(waiter);
      this.maybeSpawn();
      this.#step();
    });
    pending.cancel = () => {
      if (this.#queue.remove(waiter)) waiter.reject(new PassengerError('PSG_ERR_CLIENT_GONE', 'the client went away while its request waited for a process'));
    };
    return pending;
  }

  /** Restarts if restart.txt or always_restart.txt asks for it: per request, and per handed-off connection (which takes no session). */
  checkRestartFiles(): void {
    const restart = this.#restartFiles.check();
    if (restart !== 'none') void this.restart({ blocking: restart === 'blocking' });
  }

  /** Throws when an invariant of invariants.ts is broken. */
  assertInvariants(): void {
    assertGroupInvariants({
      name: this.spec.name, processes: this.#processes, queueLength: this.#queue.length,
      spawning: this.#spawning, openSessions: this.#openSessions, routable: this.#route(),
    });
  }

  #step(): void {
    if (this.#host.verifyInvariants) this.assertInvariants();
  }

  #stepped<T>(value: T): T {
    this.#step();
    return value;
  }

  /** Restart: rolling (new processes take over before old ones stop) unless `blocking`. */
  async restart(opts: { blocking?: boolean } = {}): Promise<void> {
    const generation = ++this.#generation;
    // A rolling restart still in progress gives up at its next generation check.
    this.#restarting = false;
    this.#failures = 0;
    this.#nextSpawnAt = 0;
    this.#lastError = undefined;
    // Blocking: the old processes take nothing from now on, not even the request that triggered this.
    if (opts.blocking) for (const p of this.#processes) if (p.enabled === 'enabled') this.retire(p, 'restart');
    let fresh: AppSpec;
    try {
      fresh = await this.#host.refreshSpec(this);
    } catch (e) {
      this.#log.error(`restart: cannot re-read the configuration, keeping the running version: ${describeError(e)}`);
      return;
    }
    if (generation !== this.#generation || this.#shuttingDown) return;
    this.spec = fresh;
    this.#restartFiles.dir = join(fresh.appRoot, fresh.options.restart_dir);
    const old = this.#processes.filter((p) => p.enabled === 'enabled');
    this.#log.info(`restarting (${opts.blocking ? 'blocking' : 'rolling'}, ${old.length} process${old.length === 1 ? '' : 'es'})`);
    if (opts.blocking || old.length === 0) {
      this.maybeSpawn();
      return;
    }
    this.#restarting = true;
    try {
      const count = Math.max(old.length, this.spec.options.min_instances);
      for (let i = 0; i < count; i++) {
        await this.#waitForSpawnSlot();
        if (generation !== this.#generation || this.#shuttingDown) return;
        const ok = await this.#spawnOne(true);
        if (generation !== this.#generation || this.#shuttingDown) return;
        if (!ok) {
          this.#restartFailed(old);
          return;
        }
        const retiring = old.shift();
        if (retiring) this.retire(retiring, 'restart');
        this.#step();
      }
      for (const p of old) this.retire(p, 'restart');
    } finally {
      if (generation === this.#generation) this.#restarting = false;
    }
  }

  /**
   * The new version of a rolling restart cannot start. In production the old
   * processes keep serving (deployment error resistance). In development they
   * are retired, so that the next request shows the error page: a developer
   * must not keep getting the old code with no sign of the error.
   */
  #restartFailed(old: AppProcess[]): void {
    const id = this.#lastError ? ` (error ${this.#lastError.id})` : '';
    if (this.spec.options.environment !== 'development') {
      this.#log.error(`restart failed${id}; the previous version keeps serving (${old.filter((p) => p.life === 'alive').length} process(es))`);
      return;
    }
    this.#log.error(`restart failed${id}; environment is development, so the previous version stops and requests get the error page (in production it would keep serving)`);
    for (const p of old) this.retire(p, 'restart');
  }

  /** Stops taking requests on `p`; it exits once its requests are done. */
  retire(p: AppProcess, reason: RetireReason): void {
    if (p.enabled === 'detached' || p.enabled === 'disabled') return;
    p.enabled = 'disabling';
    p.retireReason = reason;
    if (p.sessions === 0) this.#stop(p);
    this.maybeSpawn();
    this.#step();
  }

  /** A stuck process: kill it now (its requests fail). */
  kill(p: AppProcess, reason: RetireReason): void {
    p.retireReason = reason;
    p.enabled = 'disabled';
    p.kill();
    this.#step();
  }

  /** Detaches the process with this pid (admin API); false when it is not ours. */
  detach(pid: number): boolean {
    const p = this.#processes.find((x) => x.pid === pid);
    if (!p) return false;
    this.retire(p, 'detached');
    return true;
  }

  /** Idle processes above min_instances that have not served a request for `idleMs`. */
  reapIdle(idleMs: number, now = Date.now()): void {
    let alive = this.#processes.filter((p) => p.enabled === 'enabled').length;
    for (const p of [...this.#processes]) {
      if (alive <= this.spec.options.min_instances) break;
      // Connections handed to it (connection_handoff) are work the sessions do not show.
      if (p.enabled === 'enabled' && p.sessions === 0 && p.handedConnections === 0 && now - p.lastUsed >= idleMs) {
        this.#log.info(`stopping idle process ${p.pid}`);
        this.retire(p, 'idle');
        alive--;
      }
    }
    this.#step();
  }

  /** The longest-idle process, for eviction by another group. */
  idlest(): AppProcess | undefined {
    let best: AppProcess | undefined;
    for (const p of this.#processes) {
      if (p.enabled === 'enabled' && p.sessions === 0 && p.handedConnections === 0 && (!best || p.lastUsed < best.lastUsed)) best = p;
    }
    return best;
  }

  /** Spawns when requests wait with no free slot, or fewer than min_instances run, within the limits. */
  maybeSpawn(): void {
    if (this.#shuttingDown || this.#spawning > 0 || this.#restarting) return;
    // Runs for every queued request and every release while the pool is full: no allocation on the way to "no".
    const wanted = (this.#queue.length > 0 && !this.#hasFreeSlot())
      || (this.#failures === 0 && this.#countProcesses('enabled') < this.spec.options.min_instances);
    if (!wanted) return;
    const now = Date.now();
    if (now < this.#nextSpawnAt) {
      // Infinity: a failure's report is being built; its handler sets the real time.
      if (this.#queue.length > 0 && !this.#retryTimer && Number.isFinite(this.#nextSpawnAt)) {
        this.#retryTimer = setTimeout(() => { this.#retryTimer = undefined; this.maybeSpawn(); }, this.#nextSpawnAt - now);
        this.#retryTimer.unref();
      }
      return;
    }
    const maxInstances = this.spec.options.max_instances;
    if (maxInstances > 0 && this.#countProcesses('enabled') + this.#countProcesses('disabling') >= maxInstances) return;
    if (!this.#host.reserveCapacity(this)) return;
    void this.#spawnOne(false);
  }

  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    clearTimeout(this.#retryTimer);
    this.#queue.rejectAll(new PassengerError('PSG_ERR_POOL_SHUTTING_DOWN', 'the server is shutting down'));
    await Promise.all(this.#processes.map((p) => { p.enabled = 'disabled'; p.retireReason = 'shutdown'; return p.shutdown(this.#host.processGraceMs); }));
    await this.#waitForSpawnSlot();
    this.#step();
  }

  stats(): GroupStats {
    return {
      appRoot: this.appRoot,
      name: this.spec.name,
      appType: this.spec.appType,
      environment: this.spec.options.environment,
      queueLength: this.#queue.length,
      oldestQueuedMs: this.#queue.oldestWaitMs(),
      spawning: this.#spawning,
      restarting: this.#restarting,
      generation: this.#generation,
      lastError: this.#lastError ? { id: this.#lastError.id, summary: this.#lastError.summary, at: this.#lastError.createdAt } : null,
      processes: this.#processes.map(processStats),
    };
  }

  #open(p: AppProcess): Session {
    this.#openSessions++;
    p.sessions++;
    p.lastUsed = Date.now();
    return new Session(p, this.#release);
  }

  #countProcesses(state: AppProcess['enabled']): number {
    let n = 0;
    for (const p of this.#processes) if (p.enabled === state) n++;
    return n;
  }

  #hasRoutable(): boolean {
    return this.#processes.some((p) => p.enabled === 'enabled' || p.enabled === 'disabling');
  }

  #hasFreeSlot(): boolean {
    return this.#route() !== undefined;
  }

  /** The least busy enabled process with a free slot; disabling ones only when none is enabled. */
  #route(): AppProcess | undefined {
    let best: AppProcess | undefined;
    let anyEnabled = false;
    for (const p of this.#processes) {
      if (p.enabled !== 'enabled') continue;
      anyEnabled = true;
      if (!p.isTotallyBusy() && (!best || p.busyness() < best.busyness())) best = p;
    }
    if (best || anyEnabled) return best;
    for (const p of this.#processes) {
      if (p.enabled === 'disabling' && p.life === 'alive' && !p.isTotallyBusy() && (!best || p.busyness() < best.busyness())) best = p;
    }
    return best;
  }

  #drainQueue(): void {
    while (this.#queue.length > 0) {
      const p = this.#route();
      if (!p) return;
      this.#queue.shift()!.resolve(this.#open(p));
    }
  }

  #onRelease(p: AppProcess, healthy: boolean): void {
    this.#openSessions--;
    p.sessions--;
    p.processed++;
    p.lastUsed = Date.now();
    // A broken connection to a process that is gone: stop routing to it now, before its exit is reported.
    if (!healthy && p.life === 'alive' && p.enabled !== 'detached' && !isAlive(p.pid)) {
      p.enabled = 'disabled';
      p.retireReason = 'crash';
    }
    const maxRequests = this.spec.options.max_requests;
    if (p.enabled === 'enabled' && maxRequests > 0 && p.processed >= maxRequests) {
      this.#log.info(`process ${p.pid} served ${p.processed} requests (max_requests), replacing it`);
      this.retire(p, 'max_requests');
    } else if (p.enabled !== 'enabled' && p.sessions === 0) {
      this.#stop(p);
    }
    this.#drainQueue();
    this.maybeSpawn();
    this.#host.sessionReleased(this);
    this.#step();
  }

  #stop(p: AppProcess): void {
    if (p.enabled === 'detached' || p.life !== 'alive') return;
    p.enabled = 'disabled';
    void p.shutdown(this.#host.processGraceMs);
  }

  async #waitForSpawnSlot(): Promise<void> {
    while (this.#spawning > 0) await this.#spawnFinished;
  }

  #spawnStarted(): void {
    this.#spawning++;
    if (!this.#resolveSpawnFinished) this.#spawnFinished = new Promise((r) => { this.#resolveSpawnFinished = r; });
  }

  #spawnEnded(): void {
    this.#spawning--;
    if (this.#spawning > 0) return;
    const resolve = this.#resolveSpawnFinished;
    this.#resolveSpawnFinished = undefined;
    resolve?.();
  }

  /** Spawns one process; true when it joined the group. */
  async #spawnOne(forRestart: boolean): Promise<boolean> {
    this.#spawnStarted();
    const generation = this.#generation;
    const spec = this.spec;
    const method = this.#host.spawner.methodFor?.(spec) ?? spec.options.spawn_method;
    this.#host.kernel.hooks.spawnStarted.call({ appRoot: this.appRoot, appType: spec.appType, method });
    let proc: AppProcess;
    try {
      const spawned = await this.#host.spawner.spawn(spec);
      const protocol = this.#host.kernel.protocols.get(spawned.sockets[0]!.protocol);
      if (!protocol) {
        spawned.child.kill('SIGKILL');
        throw new PassengerError('PSG_ERR_SPAWN_PROTOCOL', `the app reported protocol "${spawned.sockets[0]!.protocol}", which no plugin registered (known: ${this.#host.kernel.protocols.list().map((p) => p.name).join(', ')})`);
      }
      proc = new AppProcess(spawned, protocol, this.#host.log.child(`[${spec.name}]`), generation, spec.options.base_uri, spec.options.force_max_concurrent_requests_per_process);
    } catch (e) {
      this.#spawnEnded();
      await this.#onSpawnFailed(e, spec);
      this.#host.capacityFreed();
      this.#step();
      return false;
    }
    this.#spawnEnded();
    forgetLoggedErrors(this.appRoot);
    this.#failures = 0;
    this.#nextSpawnAt = 0;
    this.#lastError = undefined;
    this.#processes.push(proc);
    this.#watchExit(proc);
    this.#log.info(`process ${proc.pid} ready in ${proc.spawned.spawnDurationMs} ms (${proc.target.socket.protocol}, concurrency ${proc.concurrency || 'unlimited'})`);
    this.#host.kernel.hooks.processSpawned.call({ pid: proc.pid, appRoot: this.appRoot, appType: spec.appType, spawnMethod: method, spawnDurationMs: proc.spawned.spawnDurationMs });
    if (this.#shuttingDown) {
      proc.retireReason = 'shutdown';
      this.#stop(proc);
      return this.#stepped(false);
    }
    this.#drainQueue();
    if (!forRestart) this.maybeSpawn();
    return this.#stepped(true);
  }

  async #onSpawnFailed(error: unknown, spec: AppSpec): Promise<void> {
    this.#failures++;
    const backoff = Math.min(500 * 2 ** (this.#failures - 1), MAX_BACKOFF_MS);
    // Until the report is built (which can take longer than the first backoff on a busy machine),
    // no retry; the backoff itself runs from when requests get the report.
    this.#nextSpawnAt = Number.POSITIVE_INFINITY;
    // Loaded on the first failure: a healthy app never needs the report builder.
    const { buildErrorReport } = await import('../error-reports/build-report.ts');
    let report: ErrorReport;
    try {
      report = await buildErrorReport(this.#host.kernel, spec, error, this.#log);
    } catch (e) {
      this.#log.error(`could not build the error report: ${describeError(e)}`);
      report = await buildErrorReport(this.#host.kernel, spec, new Error(describeError(error)), this.#log);
    }
    this.#lastError = report;
    // A restart meanwhile cleared the backoff: keep it cleared.
    if (this.#nextSpawnAt === Number.POSITIVE_INFINITY) this.#nextSpawnAt = Date.now() + backoff;
    this.#log.error(`could not start a process (error ${report.id}): ${report.summary}; next attempt in ${backoff / 1000} s at the earliest`);
    this.#host.kernel.hooks.spawnFailed.call(report);
    if (!this.#hasRoutable()) this.#queue.rejectAll(new AppFailedError(report));
  }

  #watchExit(p: AppProcess): void {
    void p.exited.then((status) => {
      const crashed = p.life === 'alive';
      p.life = 'dead';
      const i = this.#processes.indexOf(p);
      if (i >= 0) this.#processes.splice(i, 1);
      p.enabled = 'detached';
      p.protocol.release?.(p.target);
      const reason: ExitInfo['reason'] = crashed ? 'crash' : p.retireReason ?? 'shutdown';
      const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
      if (reason === 'crash') this.#log.warn(`process ${p.pid} died unexpectedly (${how})`);
      else this.#log.debug(`process ${p.pid} exited (${reason}, ${how})`);
      this.#host.kernel.hooks.processExited.call({ pid: p.pid, appRoot: this.appRoot, appType: this.spec.appType }, { code: status.code, signal: status.signal, reason });
      this.#host.capacityFreed();
      this.maybeSpawn();
      this.#step();
    });
  }
}
