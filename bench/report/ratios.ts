// Ratios between servers, paired within each repetition: both ran minutes
// apart at most, so machine noise cancels better than between medians.
import type { Sample } from '../measure/figures.ts';
import { median } from './median.ts';
import type { Ratio, TargetResult } from './result.ts';

const r3 = (n: number) => Math.round(n * 1000) / 1000;

function paired(a: readonly Sample[], b: readonly Sample[], f: (s: Sample) => number): number {
  const ratios: number[] = [];
  for (const s of a) {
    const other = b.find((x) => x.repetition === s.repetition);
    if (other && f(other) > 0) ratios.push(f(s) / f(other));
  }
  return r3(median(ratios));
}

/** Our servers against every other server of the same app type, and everything against the bare app. */
export function computeRatios(results: readonly TargetResult[]): Ratio[] {
  const ran = results.filter((r) => r.status === 'ran' && r.samples.length > 0);
  const pairs: [TargetResult, TargetResult][] = [];
  const bare = ran.find((r) => r.id === 'bare-node');
  for (const t of ran) {
    // The cost of metrics: the same server with the metrics listener on against off.
    const off = t.id.endsWith('-metrics') ? ran.find((r) => r.id === t.id.slice(0, -'-metrics'.length)) : undefined;
    if (off) { pairs.push([t, off]); continue; }
    // The cost of TLS (and of every production option at once): against the plain Node row.
    if (t.id === 'ours-node-tls' || t.id === 'ours-node-production') {
      const plain = ran.find((r) => r.id === 'ours-node');
      if (plain) pairs.push([t, plain]);
      continue;
    }
    // What connection_handoff gives: the same server with the option on against off (then against the rest, as any row of ours).
    const proxied = t.id.endsWith('-handoff') ? ran.find((r) => r.id === t.id.slice(0, -'-handoff'.length)) : undefined;
    if (proxied) pairs.push([t, proxied]);
    if (t.server === 'ours') {
      for (const ref of ran) if (ref.server !== 'ours' && ref.server !== 'bare' && ref.app === t.app) pairs.push([t, ref]);
    }
    if (bare && t !== bare) pairs.push([t, bare]);
  }
  return pairs.map(([t, ref]) => ({
    target: t.id,
    reference: ref.id,
    rpsC1: paired(t.samples, ref.samples, (s) => s.helloC1.rps),
    rpsC32: paired(t.samples, ref.samples, (s) => s.helloC32.rps),
    p99C32: paired(t.samples, ref.samples, (s) => s.helloC32.latencyMs.p99),
    cpuC32: paired(t.samples, ref.samples, (s) => s.cpuC32.totalUs),
  }));
}
