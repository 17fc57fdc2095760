// The README's two tables (figures per server, then ratios) as Markdown, from
// one results file, so the README always shows one run's numbers as measured.
import type { BenchResult } from './result.ts';
import { k, micro } from './table.ts';
import type { ServerKind } from '../targets/target.ts';

const FRONTED = new Set<ServerKind>(['ours', 'passenger', 'nginx']);

const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

export function markdownTables(result: BenchResult): string {
  const head = ['server', 'rps c1', 'rps c32', 'p99 c32', 'core µs/req c32', 'core RSS (own, PSS)', '2 s later', '1 MiB GET', '10 MiB POST'];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const t of result.targets) {
    const m = t.median;
    if (!m) continue;
    // Only ours, Passenger and nginx put a process in front of the app; in the others
    // (a bare cluster, puma, gunicorn, uvicorn) the workers accept, and the master is no core.
    const front = FRONTED.has(t.server);
    const core = !front || m.coreRssMiB === null ? '' : `${Math.round(m.coreRssMiB)} (${Math.round(m.corePrivateMiB ?? 0)}, ${Math.round(m.corePssMiB ?? 0)}) MiB`;
    lines.push(row([
      t.label, k(m.rpsC1), k(m.rpsC32), `${m.p99C32Ms} ms`, front ? micro(m.cpuC32.coreUs) : '', core,
      !front || m.coreRssIdleMiB === null ? '' : `${Math.round(m.coreRssIdleMiB)} MiB`,
      `${Math.round(m.download1MiB.MiBps)} MiB/s`, `${Math.round(m.upload10MiB.MiBps)} MiB/s`,
    ]));
  }
  const ratioHead = ['server / reference', 'rps c1', 'rps c32', 'p99 c32', 'CPU/req c32'];
  lines.push('', row(ratioHead), row(ratioHead.map(() => '---')));
  for (const r of result.ratios) {
    lines.push(row([`${r.target} / ${r.reference}`, r.rpsC1.toFixed(2), r.rpsC32.toFixed(2), r.p99C32.toFixed(2), r.cpuC32.toFixed(2)]));
  }
  return lines.join('\n');
}
