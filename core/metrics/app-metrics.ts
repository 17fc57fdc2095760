// What the metrics count for one app, as plain numbers updated in place by
// the hook taps (collector.ts). Label values are fixed lists, so every
// series exists from the start with 0 (no series appears out of nowhere).
import type { ExitInfo, RejectionReason } from '../hooks.ts';
import type { SpawnMethod } from '../spawn/spawn-command.ts';
import { FixedHistogram, QUEUE_SECONDS, REQUEST_SECONDS, SPAWN_SECONDS } from './histogram.ts';

/** `none`: the connection ended before any status was sent. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;
export const REJECTION_REASONS: readonly RejectionReason[] = ['queue_full', 'queue_timeout', 'body_too_large', 'request_timeout'];
export const EXIT_REASONS: readonly ExitInfo['reason'][] = ['idle', 'restart', 'max_requests', 'memory_limit', 'max_request_time', 'crash', 'shutdown', 'evicted', 'detached'];
export const SPAWN_METHODS: readonly SpawnMethod[] = ['smart', 'direct'];
export const SPAWN_OUTCOMES = ['success', 'failure'] as const;

export function statusClassIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
}

export class AppMetrics {
  readonly appRoot: string;
  /** The `app` label. */
  readonly label: string;
  readonly requests = new Float64Array(STATUS_CLASSES.length);
  readonly rejections = new Float64Array(REJECTION_REASONS.length);
  readonly exits = new Float64Array(EXIT_REASONS.length);
  /** [method][outcome] */
  readonly spawns = SPAWN_METHODS.map(() => new Float64Array(SPAWN_OUTCOMES.length));
  readonly spawnSeconds = SPAWN_METHODS.map(() => new FixedHistogram(SPAWN_SECONDS));
  readonly requestSeconds = new FixedHistogram(REQUEST_SECONDS);
  readonly queueSeconds = new FixedHistogram(QUEUE_SECONDS);
  inFlight = 0;

  constructor(appRoot: string, label: string) {
    this.appRoot = appRoot;
    this.label = label;
  }
}
