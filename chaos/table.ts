// The results table, in Markdown (it reads as well in a terminal).
import type { FaultResult } from './harness.ts';

export function resultsTable(results: FaultResult[]): string {
  const rows = results.map((r) => [
    r.fault, r.app, String(r.sent), String(r.failed), `${(r.longestGapMs / 1000).toFixed(2)} s`,
    `${r.coreRssPeakMiB.toFixed(0)} MiB`, String(r.leftovers), r.violations.length === 0 ? 'yes' : `NO: ${r.violations.join('; ')}`, r.notes,
  ]);
  const head = ['fault', 'app', 'sent', 'failed', 'longest gap', 'core RSS peak', 'leftover processes', 'properties hold', 'notes'];
  const line = (cells: string[]) => `| ${cells.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
