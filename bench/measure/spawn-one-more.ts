// The time to spawn one more app process, as a client sees it: with one
// process running and busy (a /sleep request), a second request must wait for
// a new process. Its response time is the spawn time (plus one tiny request).
import getPort from 'get-port';
import { get } from '../load/probe.ts';
import type { Target } from '../targets/target.ts';
import type { BenchSettings } from '../settings.ts';
import { startAndWait, waitForAppProcesses } from './sample.ts';

/** Milliseconds, or null when the answer came from the busy process instead (spawning took too long to tell). */
export async function measureSpawnOneMore(target: Target, appDir: string, workDir: string, settings: BenchSettings): Promise<number | null> {
  const port = await getPort({ host: '127.0.0.1' });
  const base = `http://127.0.0.1:${port}`;
  const { server } = await startAndWait(target, { appDir, workDir, port, processes: 1, maxProcesses: 2 });
  try {
    if (await waitForAppProcesses(server, 1, 10_000) !== 1) throw new Error(`${target.id}: expected 1 app process before the spawn measurement`);
    const first = await get(`${base}/pid`);
    const sleepMs = settings.spawnProbeSleepMs;
    const busy = get(`${base}/sleep?ms=${sleepMs}`, sleepMs + 30_000).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200)); // the busy request reaches the app
    const t0 = performance.now();
    const r = await get(`${base}/pid`, sleepMs + 30_000);
    const ms = performance.now() - t0;
    if (r.status !== 200) throw new Error(`${target.id}: GET /pid answered ${r.status} during the spawn measurement`);
    await busy;
    // The first process answered (the busy request had not reached it yet, or the spawn
    // outlasted the sleep): the figure would not be a spawn time.
    return r.body === first.body || ms >= sleepMs - 300 ? null : ms;
  } finally {
    await server.stop();
  }
}
