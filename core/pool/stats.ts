import type { AppProcess } from './app-process.ts';

/** Plain data for the admin API and `passenger status`. */
export interface ProcessStats {
  pid: number;
  state: string;
  sessions: number;
  /** Client connections handed to the process (connection_handoff) that it still holds; their requests are not sessions. */
  handedConnections: number;
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

export function processStats(p: AppProcess): ProcessStats {
  return {
    pid: p.pid,
    state: p.life === 'alive' ? p.enabled : p.life,
    sessions: p.sessions,
    handedConnections: p.handedConnections,
    concurrency: p.concurrency,
    processed: p.processed,
    spawnedAt: new Date(p.spawnedAt).toISOString(),
    spawnDurationMs: p.spawned.spawnDurationMs,
    lastUsed: new Date(p.lastUsed).toISOString(),
    cpu: p.cpu,
    rssBytes: p.rssBytes,
    generation: p.generation,
    protocol: p.target.socket.protocol,
    address: p.target.socket.address,
  };
}
