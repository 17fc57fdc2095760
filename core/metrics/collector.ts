// Feeds the per-app numbers from the kernel hooks, the same hooks any plugin
// can tap. Request taps do a map lookup and a few additions; the rest
// (process states, memory, CPU, queue lengths) is read from the pool when
// scraped, so the request path carries nothing else.
import { basename } from 'node:path';
import type { Kernel } from '../kernel.ts';
import type { RequestEvent } from '../hooks.ts';
import type { Pool } from '../pool/pool.ts';
import type { SpawnMethod } from '../spawn/spawn-command.ts';
import { AppMetrics, EXIT_REASONS, REJECTION_REASONS, SPAWN_METHODS, statusClassIndex } from './app-metrics.ts';

const TAP = 'passenger:metrics';

export class MetricsCollector {
  readonly #apps = new Map<string, AppMetrics>();
  readonly #labels = new Set<string>();
  readonly #pool: Pool;
  /** The spawn running per app (at most one), for the method and duration of a failure. */
  readonly #spawning = new Map<string, { method: SpawnMethod; startedAt: number }>();

  constructor(kernel: Kernel, pool: Pool) {
    this.#pool = pool;
    const h = kernel.hooks;
    h.requestStarted.tap(TAP, (e) => { this.#forRequest(e).inFlight++; });
    h.requestFinished.tap(TAP, (e) => this.#finished(e));
    h.spawnStarted.tap(TAP, (s) => { this.#spawning.set(s.appRoot, { method: s.method, startedAt: performance.now() }); });
    h.processSpawned.tap(TAP, (p) => {
      this.#spawning.delete(p.appRoot);
      const m = this.app(p.appRoot);
      const i = Math.max(0, SPAWN_METHODS.indexOf(p.spawnMethod ?? 'direct'));
      m.spawns[i]![0]!++;
      if (p.spawnDurationMs !== undefined) m.spawnSeconds[i]!.observe(p.spawnDurationMs / 1000);
    });
    h.spawnFailed.tap(TAP, (report) => {
      const started = this.#spawning.get(report.appRoot);
      this.#spawning.delete(report.appRoot);
      const m = this.app(report.appRoot);
      const i = Math.max(0, SPAWN_METHODS.indexOf(started?.method ?? 'direct'));
      m.spawns[i]![1]!++;
      if (started) m.spawnSeconds[i]!.observe((performance.now() - started.startedAt) / 1000);
    });
    h.processExited.tap(TAP, (p, exit) => {
      const i = EXIT_REASONS.indexOf(exit.reason);
      if (i >= 0) this.app(p.appRoot).exits[i]!++;
    });
  }

  #forRequest(e: RequestEvent): AppMetrics {
    return this.#apps.get(e.app.appRoot) ?? this.app(e.app.appRoot, e.app.name);
  }

  #finished(e: RequestEvent): void {
    const m = this.#forRequest(e);
    m.inFlight--;
    m.requests[statusClassIndex(e.status)]!++;
    m.requestSeconds.observe(e.durationMs / 1000);
    if (e.queueMs >= 0) m.queueSeconds.observe(e.queueMs / 1000);
    if (e.rejection !== undefined) m.rejections[REJECTION_REASONS.indexOf(e.rejection)]!++;
  }

  /** The numbers of an app, created on first use with its `app` label. */
  app(appRoot: string, name?: string): AppMetrics {
    let m = this.#apps.get(appRoot);
    if (m) return m;
    let label = name ?? this.#pool.findGroup(appRoot)?.spec.name ?? basename(appRoot);
    // Two apps with one name (SCGI serves several) must not share series: the second is named by its path.
    if (this.#labels.has(label)) label = appRoot;
    this.#labels.add(label);
    m = new AppMetrics(appRoot, label);
    this.#apps.set(appRoot, m);
    return m;
  }

  /** Every app in the pool, and any that only had events so far. */
  apps(): AppMetrics[] {
    for (const g of this.#pool.groups) this.app(g.appRoot, g.spec.name);
    return [...this.#apps.values()];
  }
}
