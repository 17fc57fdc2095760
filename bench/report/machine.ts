// What the figures were measured on: they only compare within one machine.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd } from '../proc/launch.ts';
import { repoRoot } from '../targets/ours.ts';
import type { Machine } from './result.ts';

export function machineInfo(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryMiB: Math.round(os.totalmem() / 1048576),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** package version and git commit. */
export async function oursVersion(): Promise<string> {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const git = await runToEnd('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot, timeoutMs: 10_000 });
  return `${pkg.version}${git.code === 0 ? ` (${git.output.trim()})` : ''}`;
}
