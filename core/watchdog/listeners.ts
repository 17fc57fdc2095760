// The instance's public listening sockets (HTTP port, SCGI socket, SCGI TCP)
// belong to the watchdog, so that a core restart does not refuse
// connections: while no core serves, the watchdog holds the sockets and the
// connections that arrive (paused, unread); a starting core receives the
// listening sockets over IPC, and once it is ready, the held connections.
// Then the watchdog closes its own copies, so the core alone accepts.
// Measured with kill -9 under load: refused connections for the whole
// restart (about 1.4 s) without this; only requests in flight fail with it.
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { renameSync, rmSync, statSync } from 'node:fs';
import { PassengerError } from '../errors/passenger-error.ts';
import { listenUnix } from '../instance/unix-socket.ts';
import { webServerGroupId } from '../instance/web-server-group.ts';

export type ListenerName = 'http' | 'https' | 'scgi' | 'scgi-tcp';

export interface ListenPlan {
  /** `fd`: a listening socket passed by the service manager (socket activation), used instead of binding. */
  http: { address: string; port: number; fd?: number | undefined };
  /** ssl_port: a second port, for HTTPS (the core terminates TLS). */
  https?: { address: string; port: number } | undefined;
  scgiSocket: string;
  /** host:port */
  scgiAddress?: string | undefined;
  /** Listening sockets inherited from the instance this one upgrades (watchdog/upgrade.ts): listened on instead of bound. */
  inherited?: Partial<Record<ListenerName, number>> | undefined;
}

/** Messages from the watchdog to the core about listeners. */
export type ListenerMessage =
  /** `fd`: no handle comes with the message; the listening socket is this descriptor of the core (socket activation). */
  | { type: 'listener'; name: ListenerName; port: number; fd?: number }
  | { type: 'connection'; name: ListenerName };

/** `host:port` (IPv6 in brackets), for --scgi-address. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!m) throw new PassengerError('PSG_ERR_CONFIG_TYPE', `scgi_address: expected host:port, got "${text}"`, { key: 'scgi_address' });
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** Binds host:port, or listens on an inherited descriptor (an upgrade) when `fd` is given. */
function listenTcp(server: net.Server, host: string, port: number, fd?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = () => { server.off('error', reject); resolve((server.address() as net.AddressInfo).port); };
    if (fd !== undefined) server.listen({ fd }, done);
    else server.listen(port, host, done);
  });
}

export class HeldListeners {
  readonly #plan: ListenPlan;
  readonly #servers = new Map<ListenerName, net.Server>();
  readonly #held: { name: ListenerName; socket: net.Socket }[] = [];
  /** Ports actually bound (the HTTP port may be 0 in the options: "any free one"). */
  readonly ports = new Map<ListenerName, number>();
  /** The SCGI socket file we bound (its inode): removed at close only if the path still is ours, not a newer instance's. */
  #scgiInode: number | undefined;

  constructor(plan: ListenPlan) {
    this.#plan = plan;
  }

  #server(name: ListenerName): net.Server {
    const s = net.createServer({ pauseOnConnect: true }, (socket) => {
      socket.on('error', () => {});
      this.#held.push({ name, socket });
    });
    this.#servers.set(name, s);
    return s;
  }

  /**
   * Where the core finds an activated HTTP socket: the watchdog passes its
   * descriptor as this extra stdio slot of the core (after stdin, stdout,
   * stderr and the IPC channel). It is never accepted from by the watchdog:
   * while no core runs, connections wait in the socket's backlog.
   */
  static readonly INHERITED_HTTP_FD = 4;

  /** Extra stdio entries for the core's spawn (the activated socket, if any). */
  get inheritedStdio(): number[] {
    return this.#plan.http.fd === undefined ? [] : [this.#plan.http.fd];
  }

  /** Binds whatever is not bound (at start, and as soon as a core died). */
  async open(): Promise<void> {
    if (this.#servers.size > 0) return;
    const { http, scgiSocket, scgiAddress } = this.#plan;
    // After the first bind, keep the port we got, so a restarted core serves the same address.
    // Inherited descriptors serve once: after a core restart, the bound port is reused as usual.
    const inherited = this.#plan.inherited ?? {};
    this.#plan.inherited = undefined;
    if (http.fd === undefined) this.ports.set('http', await listenTcp(this.#server('http'), http.address, this.ports.get('http') ?? http.port, inherited.http));
    const https = this.#plan.https;
    if (https) this.ports.set('https', await listenTcp(this.#server('https'), https.address, this.ports.get('https') ?? https.port, inherited.https));
    // Bound under a temporary name and renamed into place: the path always points at a live
    // socket, and closing our copy later removes only the temporary name.
    const tmp = `${scgiSocket}.${process.pid}.tmp`;
    await listenUnix(this.#server('scgi'), tmp, { mode: 0o660, gid: process.getuid?.() === 0 ? webServerGroupId() : undefined });
    renameSync(tmp, scgiSocket);
    this.#scgiInode = statSync(scgiSocket).ino;
    if (scgiAddress) {
      const { host, port } = parseHostPort(scgiAddress);
      this.ports.set('scgi-tcp', await listenTcp(this.#server('scgi-tcp'), host, port, inherited['scgi-tcp']));
    }
  }

  /** Hands the listening sockets to a starting core. */
  sendTo(core: ChildProcess): void {
    if (this.#plan.http.fd !== undefined) {
      const msg: ListenerMessage = { type: 'listener', name: 'http', port: 0, fd: HeldListeners.INHERITED_HTTP_FD };
      core.send(msg);
    }
    for (const [name, server] of this.#servers) {
      const msg: ListenerMessage = { type: 'listener', name, port: this.ports.get(name) ?? 0 };
      core.send(msg, server);
    }
  }

  /** The core is ready: it gets the connections that waited, and accepts alone from now on. */
  release(core: ChildProcess): void {
    for (const server of this.#servers.values()) server.close();
    this.#servers.clear();
    for (const { name, socket } of this.#held.splice(0)) {
      const msg: ListenerMessage = { type: 'connection', name };
      if (socket.destroyed) continue;
      core.send(msg, socket, (err) => { if (err) socket.destroy(); });
    }
  }

  close(): void {
    for (const server of this.#servers.values()) server.close();
    this.#servers.clear();
    for (const { socket } of this.#held.splice(0)) socket.destroy();
    // After an upgrade the path is the new instance's socket: leave it.
    let inode: number | undefined;
    try { inode = statSync(this.#plan.scgiSocket).ino; } catch { /* gone */ }
    if (inode !== undefined && inode === this.#scgiInode) rmSync(this.#plan.scgiSocket, { force: true });
  }
}
