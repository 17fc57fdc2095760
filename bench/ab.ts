// A/B of two builds of our server on one app, for changes to the core: both
// run the same loads in alternating order, round after round, and the result
// is the median of the per-round ratios B/A (req/s, the core's CPU µs per
// request, its RSS and PSS after the loads). On a shared machine the absolute
// figures swing with the load; the ratios of neighbouring runs swing less.
//   node --import tsx bench/ab.ts --a /tmp/base --b . [--app node] [--rounds 5] [--duration 5] [--conns 1,32] [-- extra passenger args]
// One build with two settings: --a . --b . --b-args '--no-batch-scheduling' (or '--batch-scheduling false')
// (--a-args/--b-args: passenger args for one side only, split on spaces).
// --upload BYTES: POST bodies of that size to --path (e.g. --path /upload --upload 10485760).
// --static BYTES: puts public/static.bin of that size in the app (then --path /static.bin).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import getPort from 'get-port';
import { prepareApp } from './apps/prepare.ts';
import { wrkRunner } from './load/wrk.ts';
import { withCpu } from './measure/cpu.ts';
import { measureRss } from './measure/rss.ts';
import { startAndWait, waitForAppProcesses } from './measure/sample.ts';
import { oursTarget } from './targets/ours.ts';
import type { AppKind } from './targets/target.ts';

interface Figures { [key: string]: number }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dash = argv.indexOf('--');
  const extra = dash >= 0 ? argv.slice(dash + 1) : [];
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const opt = (name: string, dflt: string) => { const i = own.indexOf(name); return i >= 0 ? own[i + 1]! : dflt; };
  const dirs = { A: resolve(opt('--a', '.')), B: resolve(opt('--b', '.')) };
  const app = opt('--app', 'node') as AppKind;
  const rounds = Number(opt('--rounds', '5'));
  const durationSec = Number(opt('--duration', '5'));
  const conns = opt('--conns', '1,32').split(',').map(Number);
  const path = opt('--path', '/');
  const uploadBytes = Number(opt('--upload', '0')) || undefined;
  const staticBytes = Number(opt('--static', '0'));
  const sideArgs = { A: opt('--a-args', '').split(' ').filter(Boolean), B: opt('--b-args', '').split(' ').filter(Boolean) };
  const scratch = mkdtempSync(join(tmpdir(), 'psg-ab-'));
  const load = wrkRunner(scratch);
  const rows: Record<'A' | 'B', Figures[]> = { A: [], B: [] };
  const loads: number[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const order: ('A' | 'B')[] = round % 2 ? ['A', 'B'] : ['B', 'A'];
      for (const which of order) {
        const target = oursTarget(app, { args: [join(dirs[which], 'bin/passenger.js')], compiled: true }, false, [...extra, ...sideArgs[which]]);
        const { appDir, workDir } = prepareApp(scratch, app, `${which}-${round}`);
        if (staticBytes > 0) {
          mkdirSync(join(appDir, 'public'), { recursive: true });
          writeFileSync(join(appDir, 'public', 'static.bin'), randomBytes(staticBytes));
        }
        const port = await getPort({ host: '127.0.0.1' });
        const base = `http://127.0.0.1:${port}`;
        const { server } = await startAndWait(target, { appDir, workDir, port, processes: 2, maxProcesses: 2 });
        try {
          await load({ url: `${base}/`, connections: 32, durationSec: 2 });
          await waitForAppProcesses(server, 2, 30_000);
          const f: Figures = {};
          for (const c of conns) {
            const r = await withCpu(server, () => load({ url: `${base}${path}`, connections: c, durationSec, uploadBytes }));
            f[`rps c${c}`] = r.load.rps;
            f[`p99 c${c}`] = r.load.latencyMs.p99;
            f[`core us/req c${c}`] = r.cpu.coreUs ?? NaN;
          }
          const rss = measureRss(server);
          f['core RSS MiB'] = rss.coreMiB ?? NaN;
          f['core PSS MiB'] = rss.corePssMiB ?? NaN;
          rows[which].push(f);
          loads.push(loadavg()[0]!);
          process.stdout.write(`round ${round} ${which}: ${Object.entries(f).map(([k, v]) => `${k} ${Math.round(v * 10) / 10}`).join(', ')}\n`);
        } finally {
          await server.stop();
        }
      }
    }
    process.stdout.write(`\nmedians of per-round ratios B/A (${rounds} rounds, load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}):\n`);
    for (const key of Object.keys(rows.A[0] ?? {})) {
      const ratios = rows.A.map((a, i) => rows.B[i]![key]! / a[key]!);
      process.stdout.write(`  ${key.padEnd(18)} A ${median(rows.A.map((r) => r[key]!)).toFixed(1).padStart(8)}  B ${median(rows.B.map((r) => r[key]!)).toFixed(1).padStart(8)}  B/A ${median(ratios).toFixed(3)}\n`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exitCode = 1; });
