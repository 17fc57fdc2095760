// The result as plain-text tables: figures per server, then the ratios.
import type { BenchResult } from './result.ts';

function render(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

export const k = (n: number) => (n >= 10_000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n)));
/** Microseconds: a decimal only where it matters. */
export const micro = (n: number | null) => (n === null ? '-' : n < 10 ? n.toFixed(1) : String(Math.round(n)));

export function figuresTable(result: BenchResult): string {
  // Results written before idleRssDelayMs was a setting waited 2 s.
  const rows: string[][] = [[
    'server', 'rps c1', 'rps c32', 'p50 c32', 'p99 c32', 'p99 c1', 'core µs/req c32', 'apps µs/req c32', 'cold start', 'core RSS (own, PSS)', `idle ${(result.settings.idleRssDelayMs ?? 2000) / 1000} s later`, 'app RSS',
    '1MiB GET', '10MiB POST', 'c200 rps', 'c200 err', 'spawn +1',
  ]];
  for (const t of result.targets) {
    const m = t.median;
    if (!m) {
      rows.push([t.id, `${t.status}: ${(t.reason ?? '').split('\n')[0]!.slice(0, 60)}`, ...Array<string>(rows[0]!.length - 2).fill('')]);
      continue;
    }
    rows.push([
      t.id, k(m.rpsC1), k(m.rpsC32), `${m.p50C32Ms} ms`, `${m.p99C32Ms} ms`, `${m.p99C1Ms} ms`,
      micro(m.cpuC32.coreUs), micro(m.cpuC32.appsUs), `${m.coldStartMs} ms`,
      m.coreRssMiB === null ? '-' : `${m.coreRssMiB} (${m.corePrivateMiB}, ${m.corePssMiB ?? '-'}) MiB`,
      m.coreRssIdleMiB === null ? '-' : `${m.coreRssIdleMiB} MiB`, m.appRssMiB.map((x) => x.toFixed(0)).join('+') + ' MiB',
      `${m.download1MiB.MiBps} MiB/s`, `${m.upload10MiB.MiBps} MiB/s`, k(m.c200.rps), String(m.c200.errors),
      m.spawnOneMoreMs === null ? '-' : `${m.spawnOneMoreMs} ms`,
    ]);
  }
  return render(rows);
}

export function ratiosTable(result: BenchResult): string {
  if (result.ratios.length === 0) return '(no ratios: nothing to compare)';
  const rows: string[][] = [['server / reference', 'rps c1', 'rps c32', 'p99 c32', 'CPU/req c32']];
  for (const r of result.ratios) {
    rows.push([`${r.target} / ${r.reference}`, r.rpsC1.toFixed(2), r.rpsC32.toFixed(2), r.p99C32.toFixed(2), r.cpuC32.toFixed(2)]);
  }
  return render(rows);
}
