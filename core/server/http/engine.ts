// The built-in HTTP engine for standalone use: node:http in front, the
// forwarding path behind. Malformed requests get 400/431/501/505 (the header
// rules are in request-rules.ts, the parser's refusals in parse-errors.ts) and a log line;
// bodies stream both ways; SIGTERM drains in-flight requests first.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import net, { type AddressInfo, type Server, type Socket } from 'node:net';
import type { AppSpec } from '../../config/app-spec.ts';
import type { Logger } from '../../log/logger.ts';
import type { Forwarder } from '../forward.ts';
import type { FrontRequest } from '../front.ts';
import { sendError } from '../error-response.ts';
import { PassengerError } from '../../errors/passenger-error.ts';
import type { ProxyTrust } from '../trusted-proxies.ts';
import { checkRequestHead } from './request-rules.ts';
import { describeParseError, rawResponse } from './parse-errors.ts';
import { ConnectionLimiter } from './connection-limit.ts';
import { NodeFrontResponse, type DrainState } from './node-front-response.ts';
import type { FrontIntercept, LeanIntercept } from '../front-intercept.ts';
import type { ConnectionHandoff } from './connection-handoff.ts';
import { closeAfterAccepting } from '../listener-close.ts';
import { memoryBody } from '../buffering/request-body.ts';
import { KEEP_ALIVE_MS, LeanConnection, type LeanHost } from './lean-connection.ts';
import type { LeanHead } from './lean-head.ts';
import type { LeanFrontResponse } from './lean-response.ts';
import type { PooledBody } from '../pooled-body.ts';

export interface HttpEngineOptions {
  port: number;
  address: string;
  /** A request head not complete after this long gets 408, in ms; 0: no limit. */
  headerTimeoutMs: number;
  /** The listen backlog (socket_backlog); node's 511 when not given. */
  backlog?: number | undefined;
  /** Connections one peer address may hold open at once; 0: no limit. */
  maxConnectionsPerClient?: number;
  /** Peers the connection limit does not apply to (default: loopback). */
  isExemptFromConnectionLimit?: (address: string) => boolean;
  /** Which app serves a request (standalone: always the one app). */
  appFor(): AppSpec;
  /** Whether a peer address is a trusted proxy, whose X-Forwarded-* headers are kept. */
  trusts: ProxyTrust;
  /** Answers some requests before the pool (static files, ssl_redirect); true: answered. */
  intercept?: FrontIntercept | undefined;
  /** connection_handoff (connection-handoff.ts): plain-HTTP connections accepted here may go to app processes whole. */
  handoff?: ConnectionHandoff | undefined;
  /** lean_http_engine: plain-HTTP connections start on the lean engine (lean-connection.ts), node:http takes over what it declines. */
  lean?: boolean;
  /** What the intercept answers on the lean engine: a reply made from memory, or the request left to node:http, where `intercept` answers it. */
  leanIntercept?: LeanIntercept | undefined;
}

/** A request the rules let through: its origin-form target, its one Host, the headers the app may see. */
type AcceptedHead = { url: string; host: string; rawHeaders: string[] };

/** serverName and serverPort from the accepted Host (`name`, `name:port`, `[v6]:port`), else the connection's local address and port. */
function serverOf(host: string, socket: Socket, localPort: number): { serverName: string; serverPort: number } {
  const colon = host.lastIndexOf(':');
  const hasPort = colon > 0 && !host.endsWith(']');
  return {
    serverName: host ? (hasPort ? host.slice(0, colon) : host) : (socket.localAddress ?? 'localhost'),
    serverPort: hasPort ? Number(host.slice(colon + 1)) || localPort : localPort,
  };
}

function frontRequest(req: http.IncomingMessage, localPort: number, head: AcceptedHead, trustedProxy: boolean): FrontRequest {
  const h = req.headers;
  const te = h['transfer-encoding'];
  const cl = h['content-length'];
  const length = cl === undefined || te !== undefined ? undefined : Number(cl);
  const hasBody = te !== undefined || (length !== undefined && length > 0);
  const sock = req.socket;
  // TLS connections come from tls/tls-front.ts, possibly on ssl_port rather than the engine's port.
  const https = (sock as { encrypted?: boolean }).encrypted === true;
  if (https) localPort = sock.localPort ?? localPort;
  return {
    method: req.method ?? 'GET',
    url: head.url,
    httpVersion: req.httpVersion,
    rawHeaders: head.rawHeaders,
    remoteAddress: sock.remoteAddress ?? '127.0.0.1',
    remotePort: sock.remotePort ?? 0,
    ...serverOf(head.host, sock, localPort),
    https,
    trustedProxy,
    body: hasBody ? req : null,
    contentLength: length,
  };
}

const REFUSAL_CODES = { 400: 'PSG_ERR_HTTP_BAD_REQUEST', 501: 'PSG_ERR_HTTP_NOT_IMPLEMENTED', 505: 'PSG_ERR_HTTP_VERSION' } as const;

/** Socket errors that mean the client left, not that it sent a malformed request. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

export class HttpEngine {
  readonly #server: http.Server;
  readonly #opts: HttpEngineOptions;
  readonly #log: Logger;
  readonly #forwarder: Forwarder;
  readonly #trustBySocket = new WeakMap<Socket, boolean>();
  readonly #refusedSockets = new WeakSet<Socket>();
  readonly #limiter: ConnectionLimiter | undefined;
  readonly #drain: DrainState = { closing: false };
  /** A stop began (drain pause): no connection is handed off any more. */
  #stopping = false;
  /** Connections accepted elsewhere (the watchdog, the TLS front): never handed off, never lean. */
  readonly #acceptedElsewhere = new WeakSet<Socket>();
  /** node:http's own 'connection' listeners: what serves a connection node's way. */
  readonly #nodeListeners: ((socket: Socket) => void)[];
  readonly #leanConnections = new Set<LeanConnection>();
  readonly #leanHost: LeanHost | undefined;
  #port = 0;

  constructor(forwarder: Forwarder, log: Logger, opts: HttpEngineOptions) {
    this.#forwarder = forwarder;
    this.#log = log;
    this.#opts = opts;
    // No overall request timeout: uploads and streams may take long. Slow heads are cut off (slow bodies: forward.ts).
    // node checks head deadlines every connectionsCheckingInterval (30 s by default): often enough that the limit holds.
    // The missing-Host check is request-rules.ts's, whose answer names the header.
    const headers = opts.headerTimeoutMs;
    this.#server = http.createServer({
      requestTimeout: 0, headersTimeout: headers, keepAliveTimeout: KEEP_ALIVE_MS, requireHostHeader: false,
      connectionsCheckingInterval: headers > 0 ? Math.min(Math.max(headers / 4, 250), 5_000) : 30_000,
    }, (req, res) => this.#onRequest(req, res));
    const maxPerClient = opts.maxConnectionsPerClient ?? 0;
    // Connections are routed here (#onConnection): handed off, lean, or node:http's.
    this.#nodeListeners = this.#server.listeners('connection') as ((socket: Socket) => void)[];
    this.#server.removeAllListeners('connection');
    this.#server.on('connection', (socket: Socket) => this.#onConnection(socket));
    this.#leanHost = opts.lean ? this.#makeLeanHost() : undefined;
    if (maxPerClient > 0) {
      const limiter = this.#limiter = new ConnectionLimiter(maxPerClient, opts.isExemptFromConnectionLimit);
      let lastWarned = 0;
      limiter.onRefuse = (address, max) => {
        // One line per 10 s at most: a client opening connections in a loop must not flood the log.
        const now = Date.now();
        if (now - lastWarned < 10_000) return;
        lastWarned = now;
        this.#log.warn(`refused a connection from ${address}: it already has ${max} open (max_connections_per_client); 503`);
      };
    }
    if (opts.handoff) this.#enableHandoff(opts.handoff);
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      if (this.#limiter?.refused(req.socket)) return;
      const verdict = checkRequestHead(req);
      if (!verdict.ok) {
        this.#logRefusal(req, verdict.message);
        socket.end(rawResponse(verdict.status, http.STATUS_CODES[verdict.status]!, verdict.message));
        return;
      }
      void this.#forwarder.upgrade(this.#opts.appFor(), frontRequest(req, this.#port, verdict, this.#trusted(req.socket)), socket, head);
    });
    // Not a forward proxy: node would close such a connection without a word.
    this.#server.on('connect', (req: http.IncomingMessage, socket: Duplex) => {
      socket.on('error', () => {});
      this.#logRefusal(req, 'CONNECT is not supported (this server is not a forward proxy)');
      socket.end(rawResponse(405, 'Method Not Allowed', 'CONNECT is not supported (this server is not a forward proxy)'));
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer; reason?: string; bytesParsed?: number }, socket: Duplex) => {
      // A client that went away (a load generator stopping, a browser tab closed) sent nothing wrong.
      if (err.code !== undefined && GONE.has(err.code)) {
        this.#log.debug(`a client connection ended abruptly: ${err.code}`);
        socket.destroy();
        return;
      }
      // Closed halfway through a request (its body, say): gone too; the request in flight learns it from its response.
      if (err.code === 'HPE_INVALID_EOF_STATE') {
        this.#log.debug('a client closed its connection in the middle of a request');
        socket.destroy();
        return;
      }
      const peer = (socket as Socket).remoteAddress;
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') { this.#headerTimedOut(socket as Socket); return; }
      const failure = describeParseError(err);
      this.#log.warn(`malformed HTTP request from a client${peer ? ` (${peer})` : ''}: ${err.code ?? ''} ${failure.status} ${failure.message}`);
      endWith(socket, rawResponse(failure.status, failure.reason, failure.message));
    });
  }

  /**
   * With connection_handoff, connections arrive paused, so not a byte is read before it is
   * decided who reads them: an app process (handed off), or this engine (then resumed). The
   * decision comes before the connection limit, which does not count handed-off connections
   * (the process holds them, not us).
   */
  #enableHandoff(handoff: ConnectionHandoff): void {
    (this.#server as unknown as { pauseOnConnect: boolean }).pauseOnConnect = true;
    handoff.proxy = (socket: Socket) => this.#serveHere(socket, true);
  }

  #onConnection(socket: Socket): void {
    // Accepted elsewhere (the watchdog, the TLS front): not paused by us, maybe already read from.
    if (this.#acceptedElsewhere.has(socket)) {
      if (this.#limiter?.admit(socket) === false) return;
      this.#toNode(socket);
      return;
    }
    const handoff = this.#opts.handoff;
    if (handoff?.enabled && !this.#stopping) handoff.offer(socket);
    else this.#serveHere(socket, handoff !== undefined);
  }

  /** A plain-HTTP connection this engine serves: lean first when on, else node:http. `paused`: accepted paused (handoff). */
  #serveHere(socket: Socket, paused: boolean): void {
    if (this.#limiter?.admit(socket) === false) return;
    const host = this.#leanHost;
    if (host) this.#leanConnections.add(new LeanConnection(socket, host));
    else this.#toNode(socket);
    if (paused && !socket.destroyed) socket.resume();
  }

  #toNode(socket: Socket): void {
    for (const listener of this.#nodeListeners) listener.call(this.#server, socket);
  }

  #makeLeanHost(): LeanHost {
    return {
      drain: this.#drain,
      headerTimeoutMs: this.#opts.headerTimeoutMs,
      serve: (head, body, socket, res) => this.#serveLean(head, body, socket, res),
      handOver: (socket, unread) => {
        this.#toNode(socket);
        // node's parser reads these first; nothing else was read meanwhile (all of this is synchronous).
        if (unread.length > 0) socket.emit('data', unread);
      },
      headerTimedOut: (socket, bodyPending) => this.#headerTimedOut(socket, bodyPending),
      forget: (conn) => { this.#leanConnections.delete(conn); },
    };
  }

  /** A request from the lean engine (read whole, or with its body streaming): served like node's when the rules let it through, else left to node:http (false). */
  #serveLean(head: LeanHead, body: Buffer | PooledBody, socket: Socket, res: LeanFrontResponse): boolean {
    const verdict = checkRequestHead({ method: head.method, url: head.url, httpVersionMajor: 1, httpVersionMinor: head.httpVersionMinor, rawHeaders: head.rawHeaders });
    // A refusal is node:http's to answer (the same rules run there), with the same response and log line.
    if (!verdict.ok) return false;
    let app: AppSpec;
    try {
      app = this.#opts.appFor();
    } catch {
      return false;
    }
    const intercepted = this.#opts.leanIntercept?.(head.method, verdict.url, verdict.rawHeaders, app);
    if (intercepted === 'node') return false;
    if (verdict.dropped.length > 0) this.#log.debug(`dropped ${verdict.dropped.length} header(s) with an underscore in the name, as nginx does: ${verdict.dropped.slice(0, 5).join(', ')}`);
    const front: FrontRequest = {
      method: head.method,
      url: verdict.url,
      httpVersion: head.httpVersionMinor === 1 ? '1.1' : '1.0',
      rawHeaders: verdict.rawHeaders,
      remoteAddress: socket.remoteAddress ?? '127.0.0.1',
      remotePort: socket.remotePort ?? 0,
      ...serverOf(verdict.host, socket, this.#port),
      https: false,
      trustedProxy: this.#trusted(socket),
      body: !Buffer.isBuffer(body) ? body : body.length > 0 ? memoryBody([body]) : null,
      contentLength: head.contentLength > 0 ? head.contentLength : undefined,
    };
    if (intercepted !== undefined) this.#forwarder.reply(app, front, res, intercepted);
    else void this.#forwarder.handle(app, front, res);
    return true;
  }

  #headerTimedOut(socket: Duplex & { remoteAddress?: string | undefined }, bodyPending = false): void {
    const peer = socket.remoteAddress;
    const message = `no complete request ${bodyPending ? '(its head came, not all of its body) ' : 'head '}within client_header_timeout (${this.#opts.headerTimeoutMs / 1000} s)`;
    this.#log.warn(`a client${peer ? ` (${peer})` : ''} sent ${message}; 408`);
    endWith(socket, rawResponse(408, 'Request Timeout', message));
  }

  /** Decided once per connection: the peer does not change between its requests. */
  #trusted(socket: Socket): boolean {
    let trusted = this.#trustBySocket.get(socket);
    if (trusted === undefined) {
      trusted = this.#opts.trusts(socket.remoteAddress);
      this.#trustBySocket.set(socket, trusted);
    }
    return trusted;
  }

  #logRefusal(req: http.IncomingMessage, message: string): void {
    const peer = req.socket.remoteAddress ?? 'a client';
    this.#log.warn(`refused a request from ${peer}: ${message}`);
  }

  get port(): number { return this.#port; }

  /**
   * Listens on the configured address, or on a listening socket handed over by
   * the watchdog (which keeps it across core restarts, so connections wait instead of being refused).
   */
  listen(handedOver?: Server): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      const onListening = () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve(this.#port);
      };
      // Listening again on a handed-over socket sets its backlog anew (node would set 511).
      if (handedOver) this.#server.listen(handedOver, this.#opts.backlog, onListening);
      else this.#server.listen({ port: this.#opts.port, host: this.#opts.address, backlog: this.#opts.backlog }, onListening);
    });
  }

  /** Serves a connection that was accepted elsewhere (held by the watchdog while the core restarted). */
  accept(socket: Socket): void {
    this.#acceptedElsewhere.add(socket);
    this.#server.emit('connection', socket);
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse, overHttp2 = false): void {
    // Already answered 503 when it connected.
    if (this.#limiter?.refused(req.socket)) return;
    // node still parses and emits requests pipelined behind a refused one; none of them may reach an app.
    if (this.#refusedSockets.has(req.socket)) { res.destroy(); return; }
    if (this.#drain.closing) res.shouldKeepAlive = false;
    const out = new NodeFrontResponse(req, res, overHttp2, this.#drain);
    // The version rules are about text request lines; an HTTP/2 stream (tls/h2-request.ts) has none, and its headers are checked as 1.1's.
    const verdict = checkRequestHead(overHttp2 ? { method: req.method, url: req.url, httpVersionMajor: 1, httpVersionMinor: 1, rawHeaders: req.rawHeaders } : req);
    if (!verdict.ok) {
      this.#logRefusal(req, verdict.message);
      // The framing of what follows cannot be trusted: answer, then close, as nginx does.
      this.#refusedSockets.add(req.socket);
      res.setHeader('Connection', 'close');
      const asReceived = frontRequest(req, this.#port, { url: req.url ?? '/', host: '', rawHeaders: req.rawHeaders }, false);
      sendError(asReceived, out, new PassengerError(REFUSAL_CODES[verdict.status], verdict.message, verdict.header ? { header: verdict.header } : {}));
      return;
    }
    if (verdict.dropped.length > 0) this.#log.debug(`dropped ${verdict.dropped.length} header(s) with an underscore in the name, as nginx does: ${verdict.dropped.slice(0, 5).join(', ')}`);
    const front = frontRequest(req, this.#port, verdict, this.#trusted(req.socket));
    let app: AppSpec;
    try {
      app = this.#opts.appFor();
    } catch (e) {
      sendError(front, out, e);
      return;
    }
    if (this.#opts.intercept) {
      const startedAt = performance.now();
      if (this.#opts.intercept(req, res, app)) { this.#forwarder.answered(app, front, res, startedAt); return; }
    }
    void this.#forwarder.handle(app, front, out);
  }

  /** A request that arrived elsewhere (HTTP/2, tls/tls-front.ts), served like one of ours. */
  dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#onRequest(req, res, true);
  }

  /**
   * A graceful stop began (the drain pause): keep serving as before, keep-alive
   * included, while load balancers that read /readyz move away. Closing each
   * connection after one more answer now would make a client that keeps
   * sending (nginx without health checks) open a new connection per request,
   * and any of those still queued in the kernel when the listener closes is
   * reset there, a POST on it lost. Kept alive, they reuse their connections;
   * once the listener closed (close()), the next answer on each is its last
   * and the client's next connection is refused, which nginx retries elsewhere
   * for every method, since nothing was sent.
   */
  startDraining(): void {
    this.#stopping = true;
  }

  /**
   * Stops accepting (closeAfterAccepting: not while the kernel holds connections
   * for us), lets in-flight requests finish within `graceMs`, then cuts what is left.
   * From now on every response is its connection's last (Connection: close).
   * `leaveIdle` (a graceful drain behind a load balancer): idle keep-alive connections are
   * not closed by us, since a request the client is sending on one at that moment would be
   * lost (nginx cannot retry a POST on it). Each ends instead when its client lets go of it
   * (nginx's keepalive_timeout is below ours), after one more answer with Connection: close,
   * or at our keep-alive timeout (5 s); `graceMs` bounds it all.
   */
  async close(graceMs: number, leaveIdle = false): Promise<void> {
    this.#stopping = true;
    this.#drain.closing = true;
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    const server = this.#server;
    if (leaveIdle) {
      // net.Server's close: stops listening without http.Server's closing of idle connections; calls back once every connection ended.
      let ended!: () => void;
      const allEnded = new Promise<void>((r) => { ended = r; });
      await closeAfterAccepting(server, () => net.Server.prototype.close.call(server, () => ended()));
      await Promise.race([Promise.all([this.#forwarder.idle(), allEnded]), timer]);
      this.#closeAllConnections();
      return;
    }
    let closedAll!: () => void;
    const closed = new Promise<void>((r) => { closedAll = r; });
    // http.Server's close also closes node:http's idle connections; the lean engine's are closed here.
    await closeAfterAccepting(server, () => server.close(() => closedAll()));
    for (const conn of this.#leanConnections) conn.closeIfIdle();
    await Promise.race([this.#forwarder.idle(), timer]);
    this.#closeAllConnections();
    await closed;
  }

  #closeAllConnections(): void {
    this.#server.closeAllConnections();
    for (const conn of this.#leanConnections) conn.socket.destroy();
  }
}

function endWith(socket: Duplex, response: string): void {
  if (socket.writable) socket.end(response);
  else socket.destroy();
}
