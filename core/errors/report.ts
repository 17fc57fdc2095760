import type { ErrorCode } from './codes.ts';

export interface ReportHint {
  title: string;
  body: string;
  /** A command that fixes the problem, shown ready to copy. */
  command?: string;
  plugin?: string;
}

export interface ReportSection {
  title: string;
  body: string;
  plugin?: string;
}

export interface JourneyStep {
  name: string;
  state: 'done' | 'failed' | 'not_reached';
  durationMs?: number;
}

/** Everything a person needs to see why an app could not start. */
export interface ErrorReport {
  /** Also printed in the log, so a production page can be matched to it. */
  id: string;
  code: ErrorCode;
  category: 'config' | 'internal' | 'os' | 'io' | 'timeout' | 'app';
  /** One line. */
  summary: string;
  /** The loader's error class, e.g. `LoadError`, `ModuleNotFoundError`. */
  errorClass?: string;
  /** The error's message and backtrace as the loader reported it. */
  detail: string;
  /** The app's own stdout and stderr lines, capped. */
  output: string[];
  appRoot: string;
  /** The app's short name, as in the log's `[name]` prefix. */
  appName?: string;
  appType: string;
  /** The app type's human name from its plugin, e.g. "Python (WSGI)". */
  appTypeName?: string;
  command: string[];
  cwd: string;
  user: { name: string; uid: number; gid: number };
  /** The app's environment with secret values masked. */
  environment: Record<string, string>;
  ulimits: Record<string, string>;
  system: { loadAverage: number[]; freeMemoryMiB: number; totalMemoryMiB: number; uptimeS: number };
  journey: JourneyStep[];
  /** Loader-reported extra keys from the `!> Error` block (interpreter, versions, ...). */
  properties: Record<string, string>;
  hints: ReportHint[];
  sections: ReportSection[];
  exit?: { code: number | null; signal: string | null };
  createdAt: string;
}
