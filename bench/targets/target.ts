// What the runner needs from each server under test: whether it can run here,
// how to start it on a port with a given process count, and which of its
// processes are the core and which are app processes.
import type { Launched } from '../proc/launch.ts';
import { isAlive, type ProcInfo } from '../proc/tree.ts';

export type AppKind = 'node' | 'rack' | 'wsgi' | 'asgi' | 'generic' | 'php';
export type ServerKind = 'ours' | 'bare' | 'passenger' | 'puma' | 'gunicorn' | 'uvicorn' | 'nginx';

export interface StartOptions {
  /** A private copy of the hello-world app (servers may write logs into it). */
  appDir: string;
  port: number;
  /** App processes kept running. */
  processes: number;
  /** Most app processes (more than `processes` for the spawn measurement). */
  maxProcesses: number;
  /** Scratch space for pid files and registries. */
  workDir: string;
}

export interface ProcessRoles {
  /** The process that does the proxying (ours and Passenger: the core; puma/gunicorn/cluster: the master). */
  core: ProcInfo | undefined;
  apps: ProcInfo[];
  /** Helpers: watchdogs, preloaders, launcher scripts. */
  others: ProcInfo[];
}

export interface RunningServer {
  /** Milliseconds (performance.now()) when the start command was issued. */
  startedAt: number;
  alive(): boolean;
  /** Process ids whose trees make up the server. */
  roots(): number[];
  classify(tree: ProcInfo[]): ProcessRoles;
  /** Output so far, for error messages. */
  output(): string;
  /** Stops every process it started; verified by PID. */
  stop(): Promise<void>;
}

export interface Target {
  /** Stable id, used as the JSON key: `ours-rack`, `passenger-wsgi`, `bare-node`. */
  id: string;
  server: ServerKind;
  app: AppKind;
  label: string;
  /** Whether the server adds app processes on demand (the "spawn one more" figure). */
  spawnsOnDemand: boolean;
  /** Undefined when it can run here, else the reason it is skipped. */
  unavailable(): Promise<string | undefined>;
  start(opts: StartOptions): Promise<RunningServer>;
  /** Extra information for the report (versions, options that matter). */
  notes?: string;
  /** 'https': served over TLS with a self-signed certificate (the loads and probes skip its verification). */
  scheme?: 'http' | 'https';
}

/** A server started as one launched process whose children are the app processes (puma, gunicorn, a Node cluster). */
export function masterWorkersServer(l: Launched): RunningServer {
  return {
    startedAt: l.startedAt,
    alive: () => isAlive(l.pid),
    roots: () => [l.pid],
    classify: (tree) => masterAndWorkers(l.pid, tree),
    output: l.output,
    stop: () => l.stop(),
  };
}

/** The roles of a simple master/workers tree: the root is the core, its children the apps. */
export function masterAndWorkers(rootPid: number, tree: ProcInfo[]): ProcessRoles {
  const core = tree.find((p) => p.pid === rootPid);
  return { core, apps: tree.filter((p) => p.ppid === rootPid), others: tree.filter((p) => p.pid !== rootPid && p.ppid !== rootPid) };
}
