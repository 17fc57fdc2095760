// @ts-check
// Kept-alive FastCGI connections to one PHP process (FCGI_KEEP_CONN, as
// nginx's `fastcgi_keep_conn`). A connection per request cost the core more
// than the rest of the request: a socket, a connect that php-fpm accepts,
// and a close, about a third of the core's CPU per request.
//
// A kept connection holds a php-fpm worker (it waits for the next request on
// it), and a connection beyond the workers waits in php-fpm's backlog until
// one is free. So a connection is kept only while the pool's connections do
// not outnumber the workers: by default they never do (the core gives a
// process at most `threads` requests at once), but with
// force_max_concurrent_requests_per_process above that, a kept connection
// would hold the worker the waiting one needs.
import net from 'node:net';

/**
 * @typedef {object} ConnectionUser What the request on a connection learns of its socket.
 * @property {() => void} onConnect
 * @property {(data: Buffer) => void} onData
 * @property {(error: NodeJS.ErrnoException | undefined) => void} onClosed the connection ended, broke or was closed
 */

/** One connection; its listeners are set once and pass events to the request it serves. While idle, any event ends it. */
export class FastCgiConnection {
  /** @type {net.Socket} */ sock;
  /** @type {ConnectionPool} */ pool;
  /** @type {ConnectionUser | null} */ user;
  connected = false;
  /** It served a request before: the worker may have closed it meanwhile. */
  reused = false;
  #closed = false;

  /** @param {ConnectionPool} pool @param {ConnectionUser} user */
  constructor(pool, user) {
    this.pool = pool;
    this.user = user;
    pool.open++;
    const sock = this.sock = net.connect(pool.connect);
    sock.on('connect', () => {
      this.connected = true;
      this.user?.onConnect();
    });
    sock.on('data', (data) => {
      if (this.user) this.user.onData(data);
      else this.close();
    });
    sock.on('end', () => this.#ended(undefined));
    sock.on('error', (e) => this.#ended(e));
    sock.on('close', () => this.#ended(undefined));
  }

  /** @param {NodeJS.ErrnoException | undefined} error */
  #ended(error) {
    const user = this.user;
    this.close();
    user?.onClosed(error);
  }

  /** Back to the pool for the next request, or closed when it cannot take one. */
  park() {
    this.user = null;
    const pool = this.pool;
    const sock = this.sock;
    if (pool.released || sock.destroyed || sock.readableEnded || !sock.writable || pool.open > pool.workers) {
      this.close();
      return;
    }
    this.reused = true;
    // Paused for a slow client of the last response.
    if (sock.isPaused()) sock.resume();
    pool.idle.push(this);
  }

  /** Closes it for good and forgets it. */
  close() {
    this.user = null;
    if (!this.#closed) {
      this.#closed = true;
      this.pool.open--;
    }
    const idle = this.pool.idle;
    const i = idle.lastIndexOf(this);
    if (i >= 0) idle.splice(i, 1);
    this.sock.destroy();
  }
}

/** Per process: its idle connections (newest last) and where to connect. */
export class ConnectionPool {
  /** @type {net.NetConnectOpts} */ connect;
  /** @type {FastCgiConnection[]} */ idle = [];
  /** The process's PHP workers: no more connections than this are kept. */
  workers;
  /** Connections open, in use or idle. */
  open = 0;
  released = false;

  /** @param {net.NetConnectOpts} connect @param {number} workers */
  constructor(connect, workers) {
    this.connect = connect;
    this.workers = workers;
  }

  /**
   * An idle connection for `user`, or a new one (which calls `onConnect` once
   * connected); `fresh`: a new one in any case.
   * @param {ConnectionUser} user @param {boolean} fresh
   */
  acquire(user, fresh) {
    const idle = fresh ? undefined : this.idle.pop();
    if (idle === undefined) return new FastCgiConnection(this, user);
    idle.user = user;
    return idle;
  }

  /** The process goes away: its idle connections close, busy ones after their request. */
  release() {
    this.released = true;
    for (const conn of [...this.idle]) conn.close();
  }
}
