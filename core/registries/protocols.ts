import type { Duplex } from 'node:stream';
import type { Logger } from '../log/logger.ts';
import type { PassengerError } from '../errors/passenger-error.ts';
import type { ProcessSocket } from '../spawn/socket-address.ts';
import type { FrontRequest, FrontResponse } from '../server/front.ts';

/** What a protocol needs to reach one app process. */
export interface ForwardTarget {
  socket: ProcessSocket;
  connectPassword: string;
  pid: number;
  /** The app's base URI (`/` at the root), for SCRIPT_NAME. */
  baseUri: string;
  /** The app's directory, for protocols that name the app's files (FastCGI's SCRIPT_FILENAME). */
  appRoot: string;
  /** The startup file the app was detected by (absolute), e.g. a front controller. */
  startupFile: string;
  log: Logger;
}

export interface ForwardOutcome {
  ok: boolean;
  /** Set when !ok: why, for the log and (when headers were not sent yet) for the error response. */
  error?: PassengerError;
  /** Whether the process stayed healthy (false: the connection broke, the process may be gone). */
  processHealthy?: boolean;
  /** Nothing reached the app (it could not be connected to): the request may go to another process. */
  retryable?: boolean;
  /** The client went away (before or while the body was sent, or before the response was complete): nothing to answer, nothing to log as a failure. */
  clientGone?: boolean;
}

/** How the core talks to app processes that reported this protocol name. */
export interface Protocol {
  name: string;
  owner?: string;
  /** Sends one request and streams the response; never throws, never writes an error response itself. */
  forward(target: ForwardTarget, req: FrontRequest, res: FrontResponse): Promise<ForwardOutcome>;
  /** Passes a WebSocket (or other) upgrade through; optional. */
  upgrade?(target: ForwardTarget, req: FrontRequest, client: Duplex, head: Buffer): Promise<ForwardOutcome>;
  /** Releases per-process resources (pooled connections) when a process goes away. */
  release?(target: ForwardTarget): void;
}
