// Prints the README's tables for one results file of `npm run bench`:
//   node --import tsx bench/readme-tables.ts bench/results/<timestamp>.json
import { readFileSync } from 'node:fs';
import { markdownTables } from './report/markdown.ts';
import { SCHEMA, type BenchResult } from './report/result.ts';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node --import tsx bench/readme-tables.ts RESULTS.json\n');
  process.exit(2);
}
const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
if (result.schema !== SCHEMA) {
  process.stderr.write(`${file}: schema ${String(result.schema)}, this script reads ${SCHEMA}\n`);
  process.exit(1);
}
const m = result.machine;
process.stdout.write(`<!-- ${result.createdAt}, ${result.mode} mode, ${result.settings.repetitions} rounds of ${result.settings.durationSec} s runs (${Math.round(result.durationSec / 60)} min in all); ${m.cpus} x ${m.cpuModel}, node ${m.node}, load average at start ${m.loadAverageAtStart.join(' ')} -->\n${markdownTables(result)}\n`);
