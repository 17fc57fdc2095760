import type { ProtocolName } from './socket-address.ts';

/** How the spawner learns that a process is ready. */
export type Readiness =
  /** The process speaks the `!>` handshake (docs/protocols.md section 1). */
  | { kind: 'handshake' }
  /** The process is ready when this port accepts connections (generic apps). */
  | { kind: 'port'; host: string; port: number; protocol: ProtocolName; concurrency: number };

export type SpawnMethod = 'smart' | 'direct';

/** What a plugin's resolveLoader tap answers: the program that runs an app type. */
export interface LoaderSpec {
  command: string;
  args: string[];
  readiness: Readiness;
  /** Extra environment for this loader. */
  env?: Record<string, string>;
  /** Why this program was chosen (e.g. "virtualenv .venv/ in the app directory"), shown by `passenger detect`. */
  note?: string;
}

/** The full command the spawner runs, after every buildSpawnCommand tap had its say. */
export interface SpawnCommand {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Keys sent to the loader after "You have control 1.0". */
  handshake: Record<string, string>;
  readiness: Readiness;
  uid?: number;
  gid?: number;
  /** The user name the process runs as, for reports. */
  user: string;
  startTimeoutMs: number;
  /** Give the process an IPC channel (fd 3) over which the core hands it client connections (connection_handoff). */
  connectionChannel?: boolean;
}
