// The JSON a bench run writes: the machine, the settings, every sample of
// every server, the medians, and the ratios (what carries over to other machines).
import type { MedianFigures, Sample } from '../measure/figures.ts';
import type { AppKind, ServerKind } from '../targets/target.ts';
import type { BenchSettings } from '../settings.ts';
import type { StaticFileResult } from '../measure/static-file.ts';
import type { MultiHostResult } from '../measure/multi-host.ts';

// 2: CPU time per request (samples' cpuC1/cpuC32, medians, ratios' cpuC32).
// 3: staticFile (a 1 MiB file from public/: our core against nginx).
// 4: multiHost (3 hosts behind nginx against 1, in network namespaces).
// 5: samples' rssIdle and medians' coreRssIdleMiB (the core's memory once idle after the loads);
//    with --tls, the rows ours-node-tls and ours-node-production (TLS, metrics, JSON access log).
// 6: staticFile.small and samples' small (a 2 KiB file as well, same servers).
export const SCHEMA = 'passenger-ts-bench/6';

export interface TargetResult {
  id: string;
  server: ServerKind;
  app: AppKind;
  label: string;
  notes: string | undefined;
  status: 'ran' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  reason?: string;
  samples: Sample[];
  /** One per repetition (Rack and WSGI on servers that spawn on demand); null: not measured. */
  spawnOneMoreMs: (number | null)[];
  median: MedianFigures | null;
}

/** target / reference, medians of the ratios within each repetition. */
export interface Ratio {
  target: string;
  reference: string;
  rpsC1: number;
  rpsC32: number;
  /** Below 1 is better for the target. */
  p99C32: number;
  /** Total CPU time per request at c=32; below 1 is better for the target. */
  cpuC32: number;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryMiB: number;
  os: string;
  node: string;
  loadAverageAtStart: number[];
}

export interface BenchResult {
  schema: typeof SCHEMA;
  createdAt: string;
  mode: 'quick' | 'full';
  durationSec: number;
  machine: Machine;
  settings: BenchSettings;
  tools: { loadGenerator: string; ours: string };
  targets: TargetResult[];
  ratios: Ratio[];
  /** null when not run (--only without `static`). */
  staticFile: StaticFileResult | null;
  /** null when not run (quick mode, --only without `multihost`, or not root). */
  multiHost: MultiHostResult | null;
}
