// One repetition against one server: start it, time the first 200, warm it
// up, run every load (reading its CPU time around the hello runs), read its
// memory, stop it.
import getPort from 'get-port';
import type { LoadResult, LoadSpec } from '../load/wrk.ts';
import { waitFor200 } from '../load/probe.ts';
import type { RunningServer, StartOptions, Target } from '../targets/target.ts';
import type { BenchSettings } from '../settings.ts';
import { withCpu } from './cpu.ts';
import type { Sample } from './figures.ts';
import { appProcessCount, measureRss } from './rss.ts';

export type Load = (spec: LoadSpec) => Promise<LoadResult>;

const START_DEADLINE_MS = 60_000;

export async function startAndWait(target: Target, opts: StartOptions): Promise<{ server: RunningServer; coldStartMs: number }> {
  const server = await target.start(opts);
  try {
    const at = await waitFor200(`${target.scheme ?? 'http'}://127.0.0.1:${opts.port}/`, START_DEADLINE_MS, () => server.alive());
    return { server, coldStartMs: at - server.startedAt };
  } catch (e) {
    const output = server.output();
    await server.stop();
    throw new Error(`${target.id} did not start: ${(e as Error).message}\n${output.slice(-3000)}`);
  }
}

/**
 * Waits until the server runs exactly `count` app processes (some spawn them only once
 * traffic arrives; spawn helpers may show up for a moment). Returns the last count seen.
 */
export async function waitForAppProcesses(server: RunningServer, count: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  let n = appProcessCount(server);
  while (n !== count && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    n = appProcessCount(server);
  }
  return n;
}

export async function runSample(target: Target, appDir: string, workDir: string, settings: BenchSettings, load: Load, repetition: number): Promise<Sample> {
  const port = await getPort({ host: '127.0.0.1' });
  const base = `${target.scheme ?? 'http'}://127.0.0.1:${port}`;
  const { server, coldStartMs } = await startAndWait(target, { appDir, workDir, port, processes: settings.processes, maxProcesses: settings.processes });
  try {
    await load({ url: `${base}/`, connections: 32, durationSec: settings.warmupSec });
    const n = await waitForAppProcesses(server, settings.processes, 30_000);
    if (n !== settings.processes) throw new Error(`${target.id} runs ${n} app processes, expected ${settings.processes}`);
    const d = settings.durationSec;
    const c1 = await withCpu(server, () => load({ url: `${base}/`, connections: 1, durationSec: d }));
    const c32 = await withCpu(server, () => load({ url: `${base}/`, connections: 32, durationSec: d }));
    const download1MiB = await load({ url: `${base}/1mib`, connections: 1, durationSec: d });
    const upload10MiB = await load({ url: `${base}/upload`, connections: 1, durationSec: d, uploadBytes: 10 * 1024 * 1024 });
    const helloC200 = await load({ url: `${base}/`, connections: 200, durationSec: d });
    const rss = measureRss(server);
    await new Promise((r) => setTimeout(r, settings.idleRssDelayMs));
    const rssIdle = measureRss(server);
    return {
      repetition, coldStartMs, helloC1: c1.load, helloC32: c32.load, cpuC1: c1.cpu, cpuC32: c32.cpu,
      download1MiB, upload10MiB, helloC200, rss, rssIdle, spawnOneMoreMs: null,
    };
  } finally {
    await server.stop();
  }
}
