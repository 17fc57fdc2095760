// Profiles our core on the request path: runs the compiled server with
// --cpu-prof (the watchdog passes its execArgv on to the core), loads it with
// wrk, stops it, and prints the functions with the most self time. The
// .cpuprofile opens as a flame graph in Chrome DevTools or speedscope.
//   node --import tsx bench/profile.ts rack [--duration 10] [--connections 32] [--path /] [-- extra passenger args]
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { prepareApp } from './apps/prepare.ts';
import { wrkRunner } from './load/wrk.ts';
import { waitFor200 } from './load/probe.ts';
import { launch } from './proc/launch.ts';
import { isAlive, processTree } from './proc/tree.ts';
import { repoRoot } from './targets/ours.ts';
import type { AppKind } from './targets/target.ts';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function topSelfTime(profile: CpuProfile, limit: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${f.url.replace(/^file:\/\//, '').replace(repoRoot + '/', '')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([k, us]) => `${(100 * us / total).toFixed(1).padStart(5)} %  ${k}`).join('\n');
}

async function main(): Promise<void> {
  const all = process.argv.slice(2);
  const dash = all.indexOf('--');
  const argv = dash >= 0 ? all.slice(0, dash) : all;
  const extra = dash >= 0 ? all.slice(dash + 1) : [];
  const app = (argv[0] ?? 'node') as AppKind;
  const opt = (name: string, dflt: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1]! : dflt; };
  const scratch = mkdtempSync(join(tmpdir(), 'psg-prof-'));
  const profDir = join(scratch, 'profiles');
  const { appDir } = prepareApp(scratch, app, app);
  if (app === 'generic') (await import('node:fs')).writeFileSync(join(appDir, 'Passengerfile.json'), JSON.stringify({ app_start_command: 'exec node app.js' }));
  const registry = mkdtempSync(join(tmpdir(), 'pb-'));
  const port = await getPort({ host: '127.0.0.1' });
  const l = launch(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, join(repoRoot, 'bin/passenger.js'), 'run', appDir,
    '--port', String(port), '--min-instances', '2', '--max-pool-size', '2', '--max-request-queue-size', '0',
    '--environment', 'production', '--drain-delay', '0', '--log-level', 'warn', '--instance-registry-dir', registry,
    ...(app === 'wsgi' ? ['--python', '/usr/bin/python3'] : []), ...extra], { cwd: appDir });
  try {
    await waitFor200(`http://127.0.0.1:${port}/`, 60_000, () => isAlive(l.pid));
    const core = processTree([l.pid]).find((p) => /core-main/.test(p.cmdline));
    const load = wrkRunner(scratch);
    const r = await load({ url: `http://127.0.0.1:${port}${opt('--path', '/')}`, connections: Number(opt('--connections', '32')), durationSec: Number(opt('--duration', '10')) });
    process.stdout.write(`${Math.round(r.rps)} rps, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms (profiling slows it down)\n`);
    await l.stop(20_000);
    const file = readdirSync(profDir).find((f) => core !== undefined && f.includes(`.${core.pid}.`));
    if (!file) throw new Error(`no profile of the core in ${profDir}`);
    const profile = JSON.parse(readFileSync(join(profDir, file), 'utf8')) as CpuProfile;
    process.stdout.write(`${join(profDir, file)}\n${topSelfTime(profile, Number(opt('--top', '30')))}\n`);
  } finally {
    await l.stop();
    // The profile stays (its path is printed); the instance registry goes.
    rmSync(registry, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exitCode = 1; });
