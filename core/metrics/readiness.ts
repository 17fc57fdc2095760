// /readyz: whether a load balancer should send this instance requests. Ready
// when every app has a process that can take a request, or can start one; not
// ready as soon as a graceful stop begins (in-flight requests still finish),
// while an app cannot start (its last spawn failed and nothing serves), or
// while an app's request queue is full.
import type { Pool } from '../pool/pool.ts';

export interface Readiness {
  ready: boolean;
  /** Why not, for people reading the probe's answer. */
  reason?: string;
  apps: { app: string; ready: boolean; reason?: string }[];
}

export function readiness(pool: Pool, stopping: boolean): Readiness {
  const apps = pool.groups.map((g) => {
    const app = g.spec.name;
    const serving = g.processes.some((p) => p.life === 'alive' && p.enabled === 'enabled');
    const max = g.spec.options.max_request_queue_size;
    if (max > 0 && g.queueLength >= max) return { app, ready: false, reason: `the request queue is full (max_request_queue_size ${max})` };
    if (serving) return { app, ready: true };
    const error = g.lastError;
    if (error) return { app, ready: false, reason: `the app cannot start (error ${error.id})` };
    return { app, ready: true };
  });
  if (stopping) return { ready: false, reason: 'the server is stopping', apps };
  const notReady = apps.find((a) => !a.ready);
  return notReady ? { ready: false, reason: `${notReady.app}: ${notReady.reason}`, apps } : { ready: true, apps };
}
