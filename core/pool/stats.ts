/** Plain data for the admin API and `passenger status`. */
export interface ProcessStats {
  pid: number;
  state: string;
  sessions: number;
  concurrency: number;
  processed: number;
  spawnedAt: string;
  spawnDurationMs: number;
  lastUsed: string;
  /** Percent of one core, from pidusage. */
  cpu: number;
  rssBytes: number;
  generation: number;
  protocol: string;
  address: string;
}

export interface GroupStats {
  appRoot: string;
  name: string;
  appType: string;
  environment: string;
  queueLength: number;
  oldestQueuedMs: number;
  spawning: number;
  restarting: boolean;
  generation: number;
  lastError: { id: string; summary: string; at: string } | null;
  processes: ProcessStats[];
}

export interface PoolStats {
  maxPoolSize: number;
  processCount: number;
  groups: GroupStats[];
}
