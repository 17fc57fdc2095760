// npm run chaos [-- --short] [-- --only NAME]: runs every fault under load
// against real apps on loopback, one fresh server per fault and app, and
// prints the table. The full mode also writes it to bench/results/ and into
// docs/reliability.md (between the chaos-table markers). Exits 1 if a
// property did not hold. Bounded: every fault has fixed durations, and the
// harness ends whatever outlives a server.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../spec/support/passenger.ts';
import { faults } from './faults/index.ts';
import { runFault, type FaultResult, type Mode } from './harness.ts';
import { resultsTable } from './table.ts';

const args = process.argv.slice(2);
const mode: Mode = args.includes('--short') ? 'short' : 'full';
const only = args.includes('--only') ? args[args.indexOf('--only') + 1]! : undefined;

const results: FaultResult[] = [];
const started = Date.now();
// Figures depend on what else the machine runs: the load average is part of the table's caption.
const loadBefore = loadavg()[0]!.toFixed(1);
for (const fault of faults) {
  if (only !== undefined && !fault.name.includes(only)) continue;
  for (const app of mode === 'short' ? fault.apps.slice(0, 1) : fault.apps) {
    results.push(await runFault(fault, app, mode, (line) => console.error(line)));
  }
}
const table = resultsTable(results);
const when = new Date().toISOString();
const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
const summary = `Chaos suite, ${mode} mode, ${when}, ${((Date.now() - started) / 1000).toFixed(0)} s on ${machine}; load average ${loadBefore} at the start, ${loadavg()[0]!.toFixed(1)} at the end.`;
console.log(`\n${summary}\n\n${table}\n`);

if (mode === 'full' && only === undefined) {
  const dir = join(repoRoot, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `chaos-${when.replaceAll(':', '-').slice(0, 19)}.md`);
  writeFileSync(file, `${summary}\n\n${table}\n`);
  const docs = join(repoRoot, 'docs/reliability.md');
  const text = readFileSync(docs, 'utf8');
  const replaced = text.replace(/(<!-- chaos-table:start -->\n)[\s\S]*?(\n<!-- chaos-table:end -->)/, `$1${summary}\n\n${table}$2`);
  writeFileSync(docs, replaced);
  console.log(`written to ${file} and docs/reliability.md`);
}
process.exitCode = results.some((r) => r.violations.length > 0) ? 1 : 0;
