// The README's Markdown tables come from one results file: a server row has
// its figures, a bare app no core figures, and every ratio a row.
import { expect } from 'chai';
import { markdownTables } from '../../bench/report/markdown.ts';
import type { BenchResult } from '../../bench/report/result.ts';

function median(coreUs: number) {
  return {
    rpsC1: 5453, rpsC32: 22_785, p99C32Ms: 4.87, cpuC32: { coreUs, appsUs: 21, othersUs: 0, totalUs: coreUs + 21 },
    coreRssMiB: 79.4, coreRssIdleMiB: 73.5, corePrivateMiB: 36.8, corePssMiB: 43.9,
    download1MiB: { rps: 1170, MiBps: 1171, p99Ms: 3 }, upload10MiB: { rps: 87, MiBps: 876.4, p99Ms: 23 },
  };
}

describe('bench: the README tables', () => {
  it('renders one row per measured server and per ratio, without core figures for a bare app', () => {
    const result = {
      targets: [
        { id: 'ours-node', server: 'ours', label: 'passenger-ts node', median: median(41.1) },
        { id: 'bare-node', server: 'bare', label: 'bare Node', median: median(0) },
        { id: 'puma', server: 'puma', label: 'puma', status: 'skipped', median: null },
      ],
      ratios: [{ target: 'ours-node', reference: 'bare-node', rpsC1: 0.441, rpsC32: 0.338, p99C32: 1.508, cpuC32: 3.617 }],
    } as unknown as BenchResult;
    const lines = markdownTables(result).split('\n');
    expect(lines).to.include('| passenger-ts node | 5453 | 22.8k | 4.87 ms | 41 | 79 (37, 44) MiB | 74 MiB | 1171 MiB/s | 876 MiB/s |');
    expect(lines).to.include('| bare Node | 5453 | 22.8k | 4.87 ms |  |  |  | 1171 MiB/s | 876 MiB/s |');
    expect(lines.some((l) => l.startsWith('| puma'))).to.equal(false);
    expect(lines).to.include('| ours-node / bare-node | 0.44 | 0.34 | 1.51 | 3.62 |');
  });
});
