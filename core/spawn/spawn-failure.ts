import { PassengerError } from '../errors/passenger-error.ts';
import type { ErrorCode } from '../errors/codes.ts';
import type { JourneyStep, ReportHint } from '../errors/report.ts';
import type { SpawnCommand } from './spawn-command.ts';

/** Everything known about a spawn that failed, for the error report. */
export interface SpawnFailureDetails {
  summary: string;
  errorClass?: string;
  detail: string;
  output: string[];
  properties: Record<string, string>;
  exit?: { code: number | null; signal: string | null };
  journey: JourneyStep[];
  command?: SpawnCommand;
  category: 'config' | 'internal' | 'os' | 'io' | 'timeout' | 'app';
  /** Hints the core itself knows (e.g. which directory blocks the app's user); plugins add theirs. */
  hints?: ReportHint[];
}

export class SpawnFailure extends PassengerError {
  readonly failure: SpawnFailureDetails;
  constructor(code: ErrorCode, failure: SpawnFailureDetails, options?: { cause?: unknown }) {
    super(code, failure.summary, {}, options);
    this.failure = failure;
  }
}
