// connection_handoff: a plain-HTTP client connection is given whole to an app
// process over its IPC channel (spawn-process.ts), as node:cluster's primary
// does, and the process serves every request on it without the core. The
// process is the one with the fewest handed connections it has not reported
// closed; with none ready, the connection waits (paused, unread) for the
// pool's checkout, which spawns one. A connection that cannot be handed off
// (the option was turned off by a restart, the process died, the spawn
// failed) is served the normal way, by `proxy`.
import type { Socket } from 'node:net';
import type { Logger } from '../../log/logger.ts';
import type { AppProcess } from '../../pool/app-process.ts';
import type { Group } from '../../pool/group.ts';
import { Session } from '../../pool/session.ts';
import { describeError } from '../../errors/passenger-error.ts';
import type { AppSpec } from '../../config/app-spec.ts';
import type { Kernel } from '../../kernel.ts';

/** The message the loader recognises; the connection travels as the message's handle. */
const CONNECTION_MESSAGE = { passenger: 'connection' };

export class ConnectionHandoff {
  readonly #group: Group;
  readonly #log: Logger;
  /** Serves a connection through the core instead (set by the engine). */
  proxy: (socket: Socket) => void = (socket) => socket.destroy();

  constructor(group: Group, log: Logger) {
    this.#group = group;
    this.#log = log;
  }

  /** Whether new connections are handed off now (read per connection, so a restart with a changed option takes effect). */
  get enabled(): boolean {
    return this.#group.spec.options.connection_handoff === true;
  }

  /** Hands `socket` (accepted paused) to an app process, or to `proxy` when none can take it. */
  offer(socket: Socket): void {
    // A restart retires the processes this would pick: look first, as a request's checkout does.
    this.#group.checkRestartFiles();
    const p = this.#pick();
    if (p) { this.#send(p, socket); return; }
    // None ready: the pool's checkout spawns one (or waits for one), with its queue limits and timeouts.
    const s = this.#group.checkout();
    if (s instanceof Session) { this.#handOver(s, socket); return; }
    // A client that leaves while waiting ends nothing here: the socket is paused, so its 'close' is not seen until it is read.
    s.then((session) => this.#handOver(session, socket), (e: unknown) => {
      this.#log.debug(`connection_handoff: no process took the connection (${describeError(e)}); serving it through the core`);
      this.proxy(socket);
    });
  }

  #handOver(session: Session, socket: Socket): void {
    // The slot was only a way to wait for a process: the connection is the process's, not a request's.
    session.close();
    const p = session.process.acceptsConnections() ? session.process : this.#pick();
    if (p) this.#send(p, socket);
    else this.proxy(socket);
  }

  #pick(): AppProcess | undefined {
    let best: AppProcess | undefined;
    for (const p of this.#group.processes) {
      if (p.acceptsConnections() && (!best || p.handedConnections < best.handedConnections)) best = p;
    }
    return best;
  }

  #send(p: AppProcess, socket: Socket): void {
    // The raw handle, not the Socket: node would otherwise tie our listener's close() to the process's connections.
    const handle = (socket as unknown as { _handle?: object | null })._handle;
    if (!handle || socket.destroyed) { socket.destroy(); return; }
    p.handedConnections++;
    p.lastUsed = Date.now();
    try {
      p.spawned.channel!.send(CONNECTION_MESSAGE, handle as never, (err: Error | null) => {
        if (!err) { socket.destroy(); return; }
        // Not delivered (the process exited meanwhile): the connection is still ours and unread.
        p.handedConnections = Math.max(0, p.handedConnections - 1);
        this.#log.debug(`connection_handoff: could not hand a connection to process ${p.pid} (${err.message}); serving it through the core`);
        this.proxy(socket);
      });
    } catch (e) {
      p.handedConnections = Math.max(0, p.handedConnections - 1);
      this.#log.debug(`connection_handoff: could not hand a connection to process ${p.pid} (${describeError(e)}); serving it through the core`);
      this.proxy(socket);
    }
  }
}

/**
 * The handoff for the standalone engine, if `connection_handoff` is on and can apply;
 * otherwise a warning says why it is ignored (the app is then served the normal way).
 * Read at start; a restart that turns it off makes new connections go through the core again.
 */
export function connectionHandoffFor(app: AppSpec, kernel: Kernel, log: Logger, group: Group, tlsOnly: boolean): ConnectionHandoff | undefined {
  if (!app.options.connection_handoff) return undefined;
  if (kernel.appTypes.get(app.appType)?.acceptsConnections !== true) {
    log.warn(`connection_handoff is ignored: the loader of app type "${app.appType}" cannot take handed-off connections (only app types whose loader declares it can, such as node); requests go through the core`);
    return undefined;
  }
  if (tlsOnly) {
    log.warn('connection_handoff is ignored: with ssl on and no ssl_port, port serves HTTPS only, and TLS ends in the core; requests go through the core');
    return undefined;
  }
  return new ConnectionHandoff(group, log);
}
