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

/** Id suffixes of rows that are another row with an option on, compared with that row alone. */
const OPTION_COSTS = ['-metrics', '-tls', '-production'];

/** Our servers against every other server of the same app type, and everything against the bare app. */
export function computeRatios(results: readonly TargetResult[]): Ratio[] {
  const ran = results.filter((r) => r.status === 'ran' && r.samples.length > 0);
  const pairs: [TargetResult, TargetResult][] = [];
  const bare = ran.find((r) => r.id === 'bare-node');
  /** The row `t` is a variant of (its id with `suffix` taken off), if `t` is one and that row ran. */
  const baseOf = (t: TargetResult, suffix: string) => (t.id.endsWith(suffix) ? ran.find((r) => r.id === t.id.slice(0, -suffix.length)) : undefined);
  for (const t of ran) {
    // What an option costs: the same server with it on against off (metrics; TLS; TLS with every production option).
    const off = OPTION_COSTS.map((suffix) => baseOf(t, suffix)).find((r) => r !== undefined);
    if (off) { pairs.push([t, off]); continue; }
    // What connection_handoff gives: the same server with the option on against off (then against the rest, as any row of ours).
    const proxied = baseOf(t, '-handoff');
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
