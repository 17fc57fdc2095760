// The static-file rows: the same 1 MiB file from public/, served by our core
// (the app is never asked) and by nginx, the physical limit for this job;
// then a 2 KiB stylesheet, where the cost per request shows instead of the
// copy. One sample per server per repetition: wrk at 1 and 32 connections.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { prepareApp } from '../apps/prepare.ts';
import { waitFor200 } from '../load/probe.ts';
import type { LoadResult } from '../load/wrk.ts';
import { oursTarget, type OursEntry } from '../targets/ours.ts';
import { startNginxStatic } from '../targets/nginx-static.ts';
import type { RunningServer } from '../targets/target.ts';
import type { BenchSettings } from '../settings.ts';
import type { Load } from './sample.ts';
import { median } from '../report/median.ts';

export const STATIC_FILE = 'static-1mib.bin';
export const SMALL_FILE = 'static-2kib.css';
const SMALL_BYTES = 2048;

interface AtTwoLoads { c1: LoadResult; c32: LoadResult }

export interface StaticFileSample {
  repetition: number;
  server: 'ours' | 'nginx';
  c1: LoadResult;
  c32: LoadResult;
  /** The 2 KiB file (absent in results from before schema 6). */
  small?: AtTwoLoads;
}

export interface StaticFileFigures { rpsC1: number; MiBpsC1: number; rpsC32: number; MiBpsC32: number; p99C32Ms: number }

export interface StaticFileResult {
  file: string;
  bytes: number;
  samples: StaticFileSample[];
  median: { ours: StaticFileFigures | null; nginx: StaticFileFigures | null };
  /** ours / nginx, medians of per-round ratios; null when either is missing. */
  ratio: { rpsC1: number; rpsC32: number } | null;
  /** Why a server has no figures. */
  skipped: string[];
  /** The same for the 2 KiB file. */
  small: { file: string; bytes: number; median: { ours: StaticFileFigures | null; nginx: StaticFileFigures | null }; ratio: { rpsC1: number; rpsC32: number } | null };
}

const START_DEADLINE_MS = 60_000;

async function atTwoLoads(url: string, settings: BenchSettings, load: Load): Promise<AtTwoLoads> {
  await load({ url, connections: 32, durationSec: settings.warmupSec });
  const c1 = await load({ url, connections: 1, durationSec: settings.durationSec });
  const c32 = await load({ url, connections: 32, durationSec: settings.durationSec });
  return { c1, c32 };
}

async function measureOne(server: RunningServer, base: string, settings: BenchSettings, load: Load): Promise<AtTwoLoads & { small: AtTwoLoads }> {
  try {
    await waitFor200(`${base}/${STATIC_FILE}`, START_DEADLINE_MS, () => server.alive());
    const big = await atTwoLoads(`${base}/${STATIC_FILE}`, settings, load);
    return { ...big, small: await atTwoLoads(`${base}/${SMALL_FILE}`, settings, load) };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${server.output().slice(-2000)}`);
  } finally {
    await server.stop();
  }
}

/** One repetition: ours, then nginx (the order alternates with the round). */
export async function sampleStaticFile(scratch: string, entry: OursEntry, settings: BenchSettings, load: Load, rep: number, withNginx: boolean): Promise<StaticFileSample[]> {
  const { appDir, workDir } = prepareApp(scratch, 'node', `static-${rep}`);
  mkdirSync(join(appDir, 'public'));
  writeFileSync(join(appDir, 'public', STATIC_FILE), randomBytes(1 << 20));
  const rule = `.rule { color: #${randomBytes(3).toString('hex')}; }\n`;
  writeFileSync(join(appDir, 'public', SMALL_FILE), rule.repeat(Math.ceil(SMALL_BYTES / rule.length)).slice(0, SMALL_BYTES));
  const runs: (() => Promise<StaticFileSample>)[] = [
    async () => {
      const port = await getPort({ host: '127.0.0.1' });
      const server = await oursTarget('node', entry).start({ appDir, workDir, port, processes: 1, maxProcesses: 1 });
      return { repetition: rep, server: 'ours', ...await measureOne(server, `http://127.0.0.1:${port}`, settings, load) };
    },
  ];
  if (withNginx) {
    runs.push(async () => {
      const port = await getPort({ host: '127.0.0.1' });
      const server = startNginxStatic(join(appDir, 'public'), port, workDir);
      return { repetition: rep, server: 'nginx', ...await measureOne(server, `http://127.0.0.1:${port}`, settings, load) };
    });
  }
  if (rep % 2 === 0) runs.reverse();
  const out: StaticFileSample[] = [];
  for (const run of runs) out.push(await run());
  return out;
}

function figures(samples: AtTwoLoads[]): StaticFileFigures | null {
  if (samples.length === 0) return null;
  const m = (f: (s: AtTwoLoads) => number) => Math.round(median(samples.map(f)) * 10) / 10;
  return {
    rpsC1: m((s) => s.c1.rps), MiBpsC1: m((s) => s.c1.readMiBps),
    rpsC32: m((s) => s.c32.rps), MiBpsC32: m((s) => s.c32.readMiBps), p99C32Ms: m((s) => s.c32.latencyMs.p99),
  };
}

export function staticFileResult(samples: StaticFileSample[], skipped: string[]): StaticFileResult {
  const ours = samples.filter((s) => s.server === 'ours');
  const nginx = samples.filter((s) => s.server === 'nginx');
  const pairs = ours.map((o) => [o, nginx.find((n) => n.repetition === o.repetition)] as const).filter((p): p is readonly [StaticFileSample, StaticFileSample] => p[1] !== undefined);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  const ratio = (ps: (readonly [AtTwoLoads, AtTwoLoads])[]) => ps.length === 0 ? null : {
    rpsC1: r2(median(ps.map(([o, n]) => o.c1.rps / n.c1.rps))),
    rpsC32: r2(median(ps.map(([o, n]) => o.c32.rps / n.c32.rps))),
  };
  const smallOf = (list: StaticFileSample[]) => list.flatMap((s) => (s.small ? [s.small] : []));
  return {
    file: `public/${STATIC_FILE}`, bytes: 1 << 20, samples, skipped,
    median: { ours: figures(ours), nginx: figures(nginx) },
    ratio: ratio(pairs),
    small: {
      file: `public/${SMALL_FILE}`, bytes: SMALL_BYTES,
      median: { ours: figures(smallOf(ours)), nginx: figures(smallOf(nginx)) },
      ratio: ratio(pairs.flatMap(([o, n]) => (o.small && n.small ? [[o.small, n.small] as const] : []))),
    },
  };
}

function oneTable(title: string, median: StaticFileResult['median'], ratio: StaticFileResult['ratio']): string {
  const rows = [[title, 'rps c1', 'MiB/s c1', 'rps c32', 'MiB/s c32', 'p99 c32']];
  for (const [name, f] of [['ours (core, public/)', median.ours], ['nginx (sendfile, 1 worker)', median.nginx]] as const) {
    rows.push(f ? [name, String(f.rpsC1), String(f.MiBpsC1), String(f.rpsC32), String(f.MiBpsC32), `${f.p99C32Ms} ms`] : [name, 'skipped', '', '', '', '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const text = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
  return text + (ratio ? `\nours / nginx: rps c1 ${ratio.rpsC1.toFixed(2)}, rps c32 ${ratio.rpsC32.toFixed(2)}` : '');
}

export function staticFileTable(r: StaticFileResult): string {
  const small = r.small.median.ours || r.small.median.nginx ? `\n\n${oneTable('static 2 KiB file', r.small.median, r.small.ratio)}` : '';
  return oneTable('static 1 MiB file', r.median, r.ratio) + small + (r.skipped.length ? `\n(${r.skipped.join('; ')})` : '');
}
