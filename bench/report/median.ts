// Medians over repetitions, and the figures one target reports.
import type { CpuFigures, CpuPerRequest, MedianFigures, Sample } from '../measure/figures.ts';

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r2 = (n: number) => Math.round(n * 100) / 100;

/** Medians of each part on its own (so total need not equal the sum of the parts). */
function medianCpu(cpu: readonly CpuFigures[]): CpuPerRequest {
  const m = (f: (c: CpuFigures) => number) => r1(median(cpu.map(f)));
  const cores = cpu.map((c) => c.coreUs).filter((x): x is number => x !== null);
  return { coreUs: cores.length ? r1(median(cores)) : null, appsUs: m((c) => c.appsUs), othersUs: m((c) => c.othersUs), totalUs: m((c) => c.totalUs) };
}

export function medianFigures(samples: readonly Sample[], spawnOneMore: readonly (number | null)[]): MedianFigures {
  const m = (f: (s: Sample) => number) => median(samples.map(f));
  const cores = samples.map((s) => s.rss.coreMiB).filter((x): x is number => x !== null);
  const coresIdle = samples.map((s) => s.rssIdle.coreMiB).filter((x): x is number => x !== null);
  const corePrivate = samples.map((s) => s.rss.corePrivateMiB).filter((x): x is number => x !== null);
  const corePss = samples.map((s) => s.rss.corePssMiB).filter((x): x is number => x !== null);
  const appCount = Math.max(0, ...samples.map((s) => s.rss.appsMiB.length));
  const spawns = spawnOneMore.filter((x): x is number => x !== null);
  return {
    rpsC1: Math.round(m((s) => s.helloC1.rps)),
    rpsC32: Math.round(m((s) => s.helloC32.rps)),
    p50C1Ms: r2(m((s) => s.helloC1.latencyMs.p50)),
    p99C1Ms: r2(m((s) => s.helloC1.latencyMs.p99)),
    p50C32Ms: r2(m((s) => s.helloC32.latencyMs.p50)),
    p99C32Ms: r2(m((s) => s.helloC32.latencyMs.p99)),
    coldStartMs: Math.round(m((s) => s.coldStartMs)),
    cpuC1: medianCpu(samples.map((s) => s.cpuC1)),
    cpuC32: medianCpu(samples.map((s) => s.cpuC32)),
    coreRssMiB: cores.length ? r1(median(cores)) : null,
    coreRssIdleMiB: coresIdle.length ? r1(median(coresIdle)) : null,
    corePrivateMiB: corePrivate.length ? r1(median(corePrivate)) : null,
    corePssMiB: corePss.length ? r1(median(corePss)) : null,
    appRssMiB: Array.from({ length: appCount }, (_, i) => r1(median(samples.map((s) => s.rss.appsMiB[i] ?? 0)))),
    totalRssMiB: r1(m((s) => s.rss.totalMiB)),
    download1MiB: { rps: r1(m((s) => s.download1MiB.rps)), MiBps: Math.round(m((s) => s.download1MiB.readMiBps)), p99Ms: r2(m((s) => s.download1MiB.latencyMs.p99)) },
    upload10MiB: { rps: r1(m((s) => s.upload10MiB.rps)), MiBps: Math.round(m((s) => s.upload10MiB.rps * 10)), p99Ms: r2(m((s) => s.upload10MiB.latencyMs.p99)) },
    c200: { rps: Math.round(m((s) => s.helloC200.rps)), errors: Math.max(0, ...samples.map((s) => s.helloC200.errorCount)), p99Ms: r2(m((s) => s.helloC200.latencyMs.p99)) },
    spawnOneMoreMs: spawns.length ? Math.round(median(spawns)) : null,
  };
}
