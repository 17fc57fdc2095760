// Spawn time of our server by spawn method: the second and later processes
// of the Rack and WSGI hello apps, started with min_instances, smart
// (forked from a preloader) against direct (a loader from scratch). The
// durations are the pool's own "process N ready in M ms" log lines. Runs on
// its own (`node --import tsx bench/measure/spawn-methods.ts`) or from the
// bench runner through measureSpawnMethods().
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import getPort from 'get-port';
import { prepareApp } from '../apps/prepare.ts';
import { launch } from '../proc/launch.ts';
import { oursEntry, repoRoot, type OursEntry } from '../targets/ours.ts';

export type SpawnMethodApp = 'rack' | 'wsgi';
export type SpawnMethodName = 'smart' | 'direct';

export interface SpawnMethodFigure {
  app: SpawnMethodApp;
  method: SpawnMethodName;
  /** Spawn durations of processes 2..N, in ms. */
  laterSpawnsMs: number[];
  medianMs: number;
}

export interface SpawnMethodsResult {
  figures: SpawnMethodFigure[];
  /** direct median / smart median per app: how many times faster smart is. */
  ratios: { app: SpawnMethodApp; directOverSmart: number }[];
}

const READY = /process \d+ ready in (\d+) ms/g;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

async function measureOne(entry: OursEntry, scratch: string, app: SpawnMethodApp, method: SpawnMethodName, processes: number): Promise<SpawnMethodFigure> {
  const { appDir } = prepareApp(scratch, app, `spawn-${app}-${method}`);
  const port = await getPort({ host: '127.0.0.1' });
  const registry = mkdtempSync(join(tmpdir(), 'pb-'));
  const python = app === 'wsgi' && existsSync('/usr/bin/python3') ? ['--python', '/usr/bin/python3'] : [];
  const server = launch(process.execPath, [...entry.args, 'run', appDir, '--port', String(port), '--address', '127.0.0.1',
    '--min-instances', String(processes), '--max-pool-size', String(processes), '--spawn-method', method,
    '--environment', 'production', '--drain-delay', '0', '--log-level', 'info', '--instance-registry-dir', registry, ...python], { cwd: entry.compiled ? appDir : repoRoot }); // tsx resolves from the cwd
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const durations = [...server.output().matchAll(READY)].map((m) => Number(m[1]));
      if (durations.length >= processes) {
        const later = durations.slice(1, processes);
        return { app, method, laterSpawnsMs: later, medianMs: median(later) };
      }
      if (server.child.exitCode !== null || server.child.signalCode !== null) throw new Error(`${app} ${method}: the server exited:\n${server.output()}`);
      if (Date.now() > deadline) throw new Error(`${app} ${method}: ${durations.length} of ${processes} processes within 120 s:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await server.stop();
    rmSync(registry, { recursive: true, force: true });
  }
}

export async function measureSpawnMethods(entry: OursEntry, scratch: string, processes = 4): Promise<SpawnMethodsResult> {
  const figures: SpawnMethodFigure[] = [];
  for (const app of ['rack', 'wsgi'] as const) {
    for (const method of ['direct', 'smart'] as const) figures.push(await measureOne(entry, scratch, app, method, processes));
  }
  const ratios = (['rack', 'wsgi'] as const).map((app) => {
    const of = (m: SpawnMethodName) => figures.find((f) => f.app === app && f.method === m)!.medianMs;
    return { app, directOverSmart: Math.round((of('direct') / Math.max(1, of('smart'))) * 10) / 10 };
  });
  return { figures, ratios };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const scratch = mkdtempSync(join(tmpdir(), 'psg-bench-spawn-'));
  measureSpawnMethods(oursEntry(false), scratch).then((r) => {
    for (const f of r.figures) process.stdout.write(`${f.app} ${f.method}: median ${f.medianMs} ms (${f.laterSpawnsMs.join(', ')})\n`);
    for (const x of r.ratios) process.stdout.write(`${x.app}: smart spawns ${x.directOverSmart}x faster than direct\n`);
  }).finally(() => rmSync(scratch, { recursive: true, force: true }));
}
