// The figures one repetition of one server yields, and their JSON shape.
import type { LoadResult } from '../load/wrk.ts';

export interface RssFigures {
  coreMiB: number | null;
  /** The core's anonymous memory: RSS without the pages of its binary and libraries, which other processes share. */
  corePrivateMiB: number | null;
  /** The core's proportional set size: RSS with each shared page divided among the processes that map it (node's code, shared with the watchdog and Node apps). */
  corePssMiB: number | null;
  /** One entry per app process, largest first. */
  appsMiB: number[];
  /** Watchdogs, preloaders, launchers. */
  othersMiB: number;
  totalMiB: number;
}

/** CPU time (user + system) a server spent per request wrk completed, microseconds. */
export interface CpuPerRequest {
  /** Null for a server without a core. */
  coreUs: number | null;
  /** Summed over the app processes. */
  appsUs: number;
  /** Watchdogs, preloaders, launchers. */
  othersUs: number;
  /** Core + apps + others. */
  totalUs: number;
}

export interface CpuFigures extends CpuPerRequest {
  /** App processes running both before and after the load (those counted). */
  appProcesses: number;
}

export interface Sample {
  repetition: number;
  /** From the start command until the first 200. */
  coldStartMs: number;
  helloC1: LoadResult;
  helloC32: LoadResult;
  /** Around helloC1 and helloC32. */
  cpuC1: CpuFigures;
  cpuC32: CpuFigures;
  download1MiB: LoadResult;
  upload10MiB: LoadResult;
  helloC200: LoadResult;
  /** At once after all the load above. */
  rss: RssFigures;
  /** The same, settings.idleRssDelayMs later: what an operator sees once the server went quiet (the core collects its garbage when idle). */
  rssIdle: RssFigures;
  /** Until a request that needed one more process was answered; null where not measured. */
  spawnOneMoreMs: number | null;
}

/** Medians over the repetitions. */
export interface MedianFigures {
  rpsC1: number;
  rpsC32: number;
  p50C1Ms: number;
  p99C1Ms: number;
  p50C32Ms: number;
  p99C32Ms: number;
  coldStartMs: number;
  cpuC1: CpuPerRequest;
  cpuC32: CpuPerRequest;
  coreRssMiB: number | null;
  /** The core's RSS once idle after the loads (Sample.rssIdle). */
  coreRssIdleMiB: number | null;
  corePrivateMiB: number | null;
  corePssMiB: number | null;
  appRssMiB: number[];
  totalRssMiB: number;
  download1MiB: { rps: number; MiBps: number; p99Ms: number };
  upload10MiB: { rps: number; MiBps: number; p99Ms: number };
  c200: { rps: number; errors: number; p99Ms: number };
  spawnOneMoreMs: number | null;
}
