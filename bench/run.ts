// `npm run bench`: our server, the bare app and the peers side by side, in
// interleaved repetitions (every server once per round, rounds repeated), so
// that the noise of a shared machine hits all of them alike. Prints tables,
// writes bench/results/<timestamp>.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareApp } from './apps/prepare.ts';
import { wrkRunner } from './load/wrk.ts';
import { runSample } from './measure/sample.ts';
import { measureSpawnOneMore } from './measure/spawn-one-more.ts';
import { sampleStaticFile, staticFileResult, staticFileTable, type StaticFileResult, type StaticFileSample } from './measure/static-file.ts';
import { nginxStaticUnavailable } from './targets/nginx-static.ts';
import { measureMultiHost, multiHostTable, multiHostUnavailable, type MultiHostResult } from './measure/multi-host.ts';
import { buildOurs, ensureWrk, installPackages } from './prerequisites.ts';
import { machineInfo, oursVersion } from './report/machine.ts';
import { medianFigures } from './report/median.ts';
import { computeRatios } from './report/ratios.ts';
import { SCHEMA, type BenchResult, type TargetResult } from './report/result.ts';
import { figuresTable, ratiosTable } from './report/table.ts';
import { parseSettings } from './settings.ts';
import { localPeerTargets, oursTargets, peerTargets } from './targets/all.ts';
import { oursEntry, repoRoot } from './targets/ours.ts';
import type { Target } from './targets/target.ts';

const say = (line: string) => process.stdout.write(`bench: ${line}\n`);

async function selectTargets(all: Target[], only: string[]): Promise<{ target: Target; result: TargetResult }[]> {
  const out: { target: Target; result: TargetResult }[] = [];
  for (const target of all) {
    if (only.length > 0 && !only.includes(target.id)) continue;
    const result: TargetResult = {
      id: target.id, server: target.server, app: target.app, label: target.label, notes: target.notes,
      status: 'ran', samples: [], spawnOneMoreMs: [], median: null,
    };
    const why = await target.unavailable();
    if (why) {
      result.status = 'skipped';
      result.reason = why;
      say(`skipping ${target.id}: ${why}`);
    }
    out.push({ target, result });
  }
  return out;
}

async function main(): Promise<void> {
  const began = performance.now();
  const settings = parseSettings(process.argv.slice(2));
  const machine = machineInfo();
  say(`${settings.quick ? 'quick' : 'full'} mode: ${settings.repetitions} repetition(s) of ${settings.durationSec} s runs, ${settings.processes} app processes per server, ${machine.cpus} CPUs`);
  await ensureWrk(say);
  if (settings.peers) await installPackages([], say);
  else say('peers (Passenger 6, puma, gunicorn) skipped: ' + (settings.quick ? 'quick mode measures our server and the bare app only' : '--no-peers'));
  const compiled = await buildOurs(say);
  const phpAsked = settings.only.includes('ours-php') || settings.only.includes('nginx-php');
  const all = [...oursTargets(oursEntry(compiled), settings.metrics, !settings.quick || phpAsked, !settings.quick || settings.only.includes('ours-node-handoff'), settings.tls),
    ...(settings.peers ? peerTargets() : settings.only.length > 0 ? localPeerTargets() : [])];
  const selected = await selectTargets(all, settings.only);
  const runnable = selected.filter((s) => s.result.status === 'ran');
  const scratch = mkdtempSync(join(tmpdir(), 'psg-bench-'));
  const load = wrkRunner(scratch);
  let staticFile: StaticFileResult | null = null;
  let multiHost: MultiHostResult | null = null;
  try {
    for (let rep = 1; rep <= settings.repetitions; rep++) {
      // Rotate the order each round, so no server always runs first (cold caches) or last.
      const order = runnable.map((_, i) => runnable[(i + rep - 1) % runnable.length]!);
      for (const { target, result } of order) {
        const { appDir, workDir } = prepareApp(scratch, target.app, `${target.id}-${rep}`);
        try {
          const s = await runSample(target, appDir, workDir, settings, load, rep);
          result.samples.push(s);
          say(`round ${rep}/${settings.repetitions} ${target.id}: ${Math.round(s.helloC1.rps)} rps c1, ${Math.round(s.helloC32.rps)} rps c32 (p99 ${s.helloC32.latencyMs.p99} ms), cold start ${Math.round(s.coldStartMs)} ms, CPU c32 ${s.cpuC32.coreUs ?? '-'} core + ${s.cpuC32.appsUs} apps µs/req, core ${s.rss.coreMiB} MiB, c200 errors ${s.helloC200.errorCount}`);
        } catch (e) {
          result.reason = (e as Error).message;
          say(`round ${rep} ${target.id} failed: ${(e as Error).message}`);
        }
        if (target.spawnsOnDemand && (target.app === 'rack' || target.app === 'wsgi')) {
          const spawn = prepareApp(scratch, target.app, `${target.id}-spawn-${rep}`);
          try {
            const ms = await measureSpawnOneMore(target, spawn.appDir, spawn.workDir, settings);
            result.spawnOneMoreMs.push(ms);
            say(`round ${rep} ${target.id}: one more process in ${ms === null ? `more than ${settings.spawnProbeSleepMs} ms` : `${Math.round(ms)} ms`}`);
          } catch (e) {
            result.spawnOneMoreMs.push(null);
            say(`round ${rep} ${target.id} spawn measurement failed: ${(e as Error).message}`);
          }
        }
      }
    }
    // The static-file row (--only static runs it alone): our core against nginx serving the same file.
    if (settings.only.length === 0 || settings.only.includes('static')) {
      const noNginx = nginxStaticUnavailable();
      const skipped = noNginx ? [`nginx: ${noNginx}`] : [];
      const samples: StaticFileSample[] = [];
      for (let rep = 1; rep <= settings.repetitions; rep++) {
        try {
          for (const s of await sampleStaticFile(scratch, oursEntry(compiled), settings, load, rep, !noNginx)) {
            samples.push(s);
            say(`round ${rep}/${settings.repetitions} static 1 MiB file, ${s.server}: ${Math.round(s.c1.rps)} rps c1, ${Math.round(s.c32.rps)} rps c32 (${s.c32.readMiBps} MiB/s)`);
          }
        } catch (e) {
          skipped.push(`round ${rep} failed: ${(e as Error).message.split('\n')[0]}`);
          say(`round ${rep} static file failed: ${(e as Error).message}`);
        }
      }
      staticFile = staticFileResult(samples, skipped);
    }
    // The multi-host row (--only multihost runs it alone; not in quick mode: it takes about 80 s alone): 3 hosts behind nginx against 1.
    if ((!settings.quick && settings.only.length === 0) || settings.only.includes('multihost')) {
      const why = multiHostUnavailable();
      if (why) say(`skipping the multi-host row: ${why}`);
      else multiHost = await measureMultiHost(scratch, settings, load, say);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  for (const { result } of runnable) {
    if (result.samples.length === 0) { result.status = 'failed'; continue; }
    result.median = medianFigures(result.samples, result.spawnOneMoreMs);
  }
  const targets = selected.map((s) => s.result);
  const result: BenchResult = {
    schema: SCHEMA,
    createdAt: new Date().toISOString(),
    mode: settings.quick ? 'quick' : 'full',
    durationSec: Math.round((performance.now() - began) / 100) / 10,
    machine,
    settings,
    tools: { loadGenerator: 'wrk', ours: `${await oursVersion()}${compiled ? '' : ' (from source)'}` },
    targets,
    ratios: computeRatios(targets),
    staticFile,
    multiHost,
  };
  const file = settings.output ?? join(repoRoot, 'bench/results', `${result.createdAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(`\n${figuresTable(result)}\n\nRatios (medians of per-round ratios; rps above 1, p99 and CPU below 1 favour the first):\n${ratiosTable(result)}\n\n${staticFile ? `${staticFileTable(staticFile)}\n\n` : ''}${multiHost ? `${multiHostTable(multiHost)}\n\n` : ''}`);
  say(`${machine.cpus} x ${machine.cpuModel}, load average at start ${machine.loadAverageAtStart.join(' ')}; wrote ${file} (${result.durationSec} s)`);
  if (targets.some((t) => t.status === 'failed' && t.server === 'ours')) process.exitCode = 1;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
