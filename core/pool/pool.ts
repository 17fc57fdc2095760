// The pool: one Group per app, and the limits that span apps: max_pool_size,
// eviction of idle processes of other apps, idle reaping and the memory
// limit. Groups ask for capacity; those that could not get it wait in
// #waitlist and are called back when a process goes away anywhere.
import pidusage from 'pidusage';
import type { AppSpec } from '../config/app-spec.ts';
import type { Kernel } from '../kernel.ts';
import type { Logger } from '../log/logger.ts';
import type { Spawner } from '../spawn/spawner.ts';
import { describeError } from '../errors/passenger-error.ts';
import { Group, type GroupHost } from './group.ts';
import type { PendingSession, Session } from './session.ts';
import type { PoolStats } from './stats.ts';

export interface PoolOptions {
  maxPoolSize: number;
  /** Seconds; 0 disables idle reaping. */
  poolIdleTime: number;
  processGraceMs: number;
  /** How often the pool measures processes (CPU, RSS, memory_limit), in ms. */
  monitorIntervalMs?: number;
  /** Check the invariants (invariants.ts) after every scheduling step: for specs. */
  verifyInvariants?: boolean;
}

export class Pool {
  readonly #groups = new Map<string, Group>();
  readonly #waitlist = new Set<Group>();
  readonly #host: GroupHost;
  readonly #opts: PoolOptions;
  readonly #log: Logger;
  readonly #refresh: (appRoot: string) => Promise<AppSpec>;
  #timer: NodeJS.Timeout | undefined;
  #shuttingDown = false;

  constructor(kernel: Kernel, spawner: Spawner, opts: PoolOptions, refresh: (appRoot: string) => Promise<AppSpec>) {
    this.#opts = opts;
    this.#log = kernel.log;
    this.#refresh = refresh;
    this.#host = {
      kernel, spawner, log: kernel.log, processGraceMs: opts.processGraceMs,
      reserveCapacity: (g) => this.#reserveCapacity(g),
      capacityFreed: () => this.#capacityFreed(),
      // Not when the group itself is all that waits: its own release already looked (every release of a full pool).
      sessionReleased: (g) => { if (this.#waitlist.size > (this.#waitlist.has(g) ? 1 : 0)) this.#capacityFreed(); },
      refreshSpec: (g) => this.#refresh(g.appRoot),
      ...(opts.verifyInvariants ? { verifyInvariants: true } : {}),
    };
    const every = opts.monitorIntervalMs ?? 2000;
    this.#timer = setInterval(() => void this.#monitor(), every);
    this.#timer.unref();
  }

  /** The group for an app, created on first use. */
  group(spec: AppSpec): Group {
    let g = this.#groups.get(spec.appRoot);
    if (!g) {
      g = new Group(spec, this.#host);
      this.#groups.set(spec.appRoot, g);
    }
    return g;
  }

  findGroup(appRoot: string): Group | undefined {
    return this.#groups.get(appRoot);
  }

  get groups(): Group[] { return [...this.#groups.values()]; }

  checkout(spec: AppSpec): Session | PendingSession {
    return this.group(spec).checkout();
  }

  /** Starts min_instances processes for an app without waiting for a request. */
  prestart(spec: AppSpec): void {
    this.group(spec).maybeSpawn();
  }

  detach(pid: number): boolean {
    return this.groups.some((g) => g.detach(pid));
  }

  processCount(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.footprint;
    return n;
  }

  /** Throws when an invariant of a group, or max_pool_size, does not hold. */
  assertInvariants(): void {
    for (const g of this.#groups.values()) g.assertInvariants();
    const count = this.processCount();
    if (count > this.#opts.maxPoolSize) {
      // Retired processes still count until they exit, so only spawns may not exceed the limit.
      throw new Error(`pool invariants broken: ${count} processes (running and spawning) above max_pool_size ${this.#opts.maxPoolSize}`);
    }
  }

  stats(): PoolStats {
    return { maxPoolSize: this.#opts.maxPoolSize, processCount: this.processCount(), groups: this.groups.map((g) => g.stats()) };
  }

  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    clearInterval(this.#timer);
    await Promise.all(this.groups.map((g) => g.shutdown()));
  }

  #reserveCapacity(group: Group): boolean {
    if (this.#shuttingDown) return false;
    if (this.processCount() < this.#opts.maxPoolSize) return true;
    this.#waitlist.add(group);
    // Make room: the longest-idle process of another app goes, rather than this app waiting forever.
    let victim: { group: Group; lastUsed: number } | undefined;
    for (const g of this.#groups.values()) {
      if (g === group) continue;
      const p = g.idlest();
      if (p && (!victim || p.lastUsed < victim.lastUsed)) victim = { group: g, lastUsed: p.lastUsed };
    }
    if (victim) {
      const p = victim.group.idlest()!;
      this.#log.info(`max_pool_size (${this.#opts.maxPoolSize}) reached: stopping idle process ${p.pid} of ${victim.group.spec.name} to make room for ${group.spec.name}`);
      victim.group.retire(p, 'evicted');
    }
    return false;
  }

  #capacityFreed(): void {
    const waiting = [...this.#waitlist];
    this.#waitlist.clear();
    for (const g of waiting) g.maybeSpawn();
  }

  async #monitor(): Promise<void> {
    const idleMs = this.#opts.poolIdleTime * 1000;
    for (const g of this.#groups.values()) if (idleMs > 0) g.reapIdle(idleMs);
    const procs = this.groups.flatMap((g) => g.processes.map((p) => ({ g, p })));
    if (procs.length === 0) return;
    let usage: Record<string, { cpu: number; memory: number; ctime: number }>;
    try {
      usage = await pidusage(procs.map(({ p }) => p.pid));
    } catch (e) {
      // A process that exited between listing and measuring makes the batch fail; the next round retries.
      this.#log.debug(`measuring processes: ${describeError(e)}`);
      return;
    }
    for (const { g, p } of procs) {
      const u = usage[p.pid];
      if (!u) continue;
      p.cpu = Math.round(u.cpu * 10) / 10;
      p.rssBytes = u.memory;
      p.cpuSeconds = u.ctime / 1000;
      const limit = g.spec.options.memory_limit;
      if (limit > 0 && p.enabled === 'enabled' && u.memory > limit * 2 ** 20) {
        this.#log.warn(`process ${p.pid} of ${g.spec.name} uses ${Math.round(u.memory / 2 ** 20)} MiB, above memory_limit ${limit} MiB: replacing it once idle`);
        g.retire(p, 'memory_limit');
      }
    }
  }

  /** Measures now instead of waiting for the next round (specs, admin). */
  monitorNow(): Promise<void> { return this.#monitor(); }
}
