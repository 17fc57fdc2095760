import type { ProtocolName } from '../spawn/socket-address.ts';

/** One kind of application a plugin knows how to run (Passenger's WrapperRegistry entry). */
export interface AppTypeDescriptor {
  /** Short name used in config (`app_type: rack`) and in `passenger detect`. */
  name: string;
  /** Human name, e.g. "Ruby (Rack)". */
  displayName: string;
  /** Startup files looked for, relative to the app root, in order of preference. */
  startupFiles: string[];
  /** What its detector looks for, for the "cannot tell what kind of app" error, when more than startupFiles (default: those, joined with "or"). */
  lookedFor?: string;
  /** The protocol its processes speak by default. */
  protocol: ProtocolName;
  /** The option naming its interpreter (e.g. `ruby`), shown by `passenger detect`. */
  interpreterOption?: string;
  /** Whether a preloader exists, so `spawn_method: smart` applies. */
  hasPreloader?: boolean;
  /** Processes per CPU worth running, for max_pool_size in a container (default 1; more when processes wait on I/O one request at a time). */
  processesPerCpu?: number;
  /** A typical process's RSS in MiB (measured, docs/deploy.md), for max_pool_size under a memory limit (default 100). */
  processMemoryMiB?: number;
  /**
   * Whether its loader serves several requests at once in one process, as many
   * as the `threads` option (the `threads` handshake key). Without it, `threads`
   * has no effect, and `passenger detect` says so.
   */
  supportsThreads?: boolean;
  /**
   * File extensions its processes execute (`.php`): the core never sends such
   * a file from the static directory as it is (that would publish source code);
   * a request for one goes to the app.
   */
  scriptExtensions?: string[];
  /**
   * Whether its loader accepts client connections handed over an IPC channel
   * (the spawner gives its processes one when `connection_handoff` is on).
   */
  acceptsConnections?: boolean;
  /** The plugin that registered it; filled in by the kernel. */
  owner?: string;
}
