// connection_handoff: a plain-HTTP client connection is given whole to an app
// process over its IPC channel (spawn-process.ts), as node:cluster's primary
// does, and the process serves every request on it without the core. The
// process is the one with the fewest handed connections it has not reported
// closed; with none ready, the connection waits (paused, unread) for the
// pool's checkout, which spawns one. A process that dies before it
// acknowledged a connection never read from it: the connection is offered
// again. One that cannot be handed off (the spawn failed, no process after
// a few offers) is served the normal way, by `proxy`.
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

/** How often one connection is offered before it is served through the core instead. */
const MAX_OFFERS = 3;

/** Per process: the connections sent, in order, that it has not acknowledged yet (we still hold our copy of each). */
interface Handed { unacknowledged: { socket: Socket; attempt: number }[] }

export class ConnectionHandoff {
  readonly #group: Group;
  readonly #log: Logger;
  readonly #handed = new WeakMap<AppProcess, Handed>();
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
  offer(socket: Socket, attempt = 0): void {
    if (socket.destroyed) return;
    // A restart retires the processes this would pick: look first, as a request's checkout does.
    this.#group.checkRestartFiles();
    const p = this.#pick();
    if (p) { this.#send(p, socket, attempt); return; }
    // None ready: the pool's checkout spawns one (or waits for one), with its queue limits and timeouts.
    const s = this.#group.checkout();
    if (s instanceof Session) { this.#handOver(s, socket, attempt); return; }
    // A client that leaves while waiting ends nothing here: the socket is paused, so its 'close' is not seen until it is read.
    s.then((session) => this.#handOver(session, socket, attempt), (e: unknown) => {
      this.#log.debug(`connection_handoff: no process took the connection (${describeError(e)}); serving it through the core`);
      this.proxy(socket);
    });
  }

  #handOver(session: Session, socket: Socket, attempt: number): void {
    // The slot was only a way to wait for a process: the connection is the process's, not a request's.
    session.close();
    const p = session.process.acceptsConnections() ? session.process : this.#pick();
    if (p) this.#send(p, socket, attempt);
    // Its process just died (the channel closed before the pool saw the exit): again once the pool has.
    else if (session.process.spawned.channel?.connected === false) void session.process.exited.then(() => setImmediate(() => this.#retry(socket, attempt)));
    else this.proxy(socket);
  }

  /** Offers a connection again (its process died before taking it), a bounded number of times, then serves it here. */
  #retry(socket: Socket, attempt: number): void {
    if (attempt >= MAX_OFFERS - 1) { this.proxy(socket); return; }
    // After the pool has seen the exit: then it no longer routes to that process, and starts another.
    setTimeout(() => this.offer(socket, attempt + 1), 10).unref();
  }

  #pick(): AppProcess | undefined {
    let best: AppProcess | undefined;
    for (const p of this.#group.processes) {
      if (p.acceptsConnections() && (!best || p.handedConnections < best.handedConnections)) best = p;
    }
    return best;
  }

  /**
   * Sends the connection's raw handle (not the Socket: node would tie our listener's close()
   * to the process's connections). Our copy stays open until the loader acknowledges it:
   * a process that dies first never read from it, so it is offered again, intact.
   */
  #send(p: AppProcess, socket: Socket, attempt: number): void {
    const handle = (socket as unknown as { _handle?: object | null })._handle;
    if (!handle || socket.destroyed) { socket.destroy(); return; }
    const handed = this.#watch(p);
    handed.unacknowledged.push({ socket, attempt });
    p.handedConnections++;
    p.lastUsed = Date.now();
    try {
      // A failed write is seen as the channel's disconnect, which offers what is unacknowledged again.
      p.spawned.channel!.send(CONNECTION_MESSAGE, handle as never, (err: Error | null) => {
        if (err) this.#log.debug(`connection_handoff: could not hand a connection to process ${p.pid} (${err.message})`);
      });
    } catch (e) {
      this.#log.debug(`connection_handoff: could not hand a connection to process ${p.pid} (${describeError(e)})`);
    }
  }

  /** Reads what the loader reports: `taken` (one per connection, in order) and `closed` (counts). */
  #watch(p: AppProcess): Handed {
    let handed = this.#handed.get(p);
    if (handed) return handed;
    const state: Handed = handed = { unacknowledged: [] };
    this.#handed.set(p, state);
    const channel = p.spawned.channel!;
    channel.on('message', (m: unknown) => {
      const msg = m as { passenger?: unknown; count?: unknown } | null;
      const count = Number.isSafeInteger(msg?.count) && (msg!.count as number) > 0 ? msg!.count as number : 0;
      if (msg?.passenger === 'taken') {
        // The process has its copy: ours closes (the connection stays open in the process).
        for (const { socket } of state.unacknowledged.splice(0, count)) socket.destroy();
      } else if (msg?.passenger === 'closed') {
        p.handedConnections = Math.max(0, p.handedConnections - count);
        p.lastUsed = Date.now();
      }
    });
    // Its exit, not the channel's 'disconnect': node holds that back while a message is half read.
    void p.exited.then(() => {
      const lost = state.unacknowledged.splice(0);
      p.handedConnections = 0;
      if (lost.length > 0) this.#log.debug(`connection_handoff: process ${p.pid} exited before taking ${lost.length} connection(s); offering them again`);
      for (const { socket, attempt } of lost) this.#retry(socket, attempt);
    });
    return state;
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
