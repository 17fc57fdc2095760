// The built-in HTTP engine for standalone use: node:http in front, the
// forwarding path behind. Malformed requests get 400/431 and a log line;
// bodies stream both ways; SIGTERM drains in-flight requests first.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { AppSpec } from '../../config/app-spec.ts';
import type { Logger } from '../../log/logger.ts';
import type { Forwarder } from '../forward.ts';
import type { FrontRequest, FrontResponse } from '../front.ts';
import { sendError } from '../error-response.ts';
import { ConnectionLimiter } from './connection-limit.ts';

export interface HttpEngineOptions {
  port: number;
  address: string;
  /** A request head not complete after this long gets 408, in ms; 0: no limit. */
  headerTimeoutMs: number;
  /** Connections one peer address may hold open at once; 0: no limit. */
  maxConnectionsPerClient?: number;
  /** Peers the connection limit does not apply to (default: loopback). */
  isExemptFromConnectionLimit?: (address: string) => boolean;
  /** Which app serves a request (standalone: always the one app). */
  appFor(req: http.IncomingMessage): AppSpec;
}

function frontRequest(req: http.IncomingMessage, localPort: number): FrontRequest {
  const h = req.headers;
  const te = h['transfer-encoding'];
  const cl = h['content-length'];
  const length = cl === undefined || te !== undefined ? undefined : Number(cl);
  const hasBody = te !== undefined || (length !== undefined && length > 0);
  const host = h.host ?? '';
  const colon = host.lastIndexOf(':');
  const sock = req.socket;
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    httpVersion: req.httpVersion,
    rawHeaders: req.rawHeaders,
    remoteAddress: sock.remoteAddress ?? '127.0.0.1',
    remotePort: sock.remotePort ?? 0,
    serverName: host ? (colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host) : (sock.localAddress ?? 'localhost'),
    serverPort: colon > 0 && !host.endsWith(']') ? Number(host.slice(colon + 1)) || localPort : localPort,
    https: false,
    body: hasBody ? req : null,
    contentLength: length,
  };
}

/** Socket errors that mean the client left, not that it sent a malformed request. */
const GONE = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** How long the rest of a request body is read (and dropped) after the answer, before the connection may close. */
const LINGER_MS = 5000;

class NodeFrontResponse implements FrontResponse {
  readonly #req: http.IncomingMessage;
  readonly #res: http.ServerResponse;
  #bodyStarted = false;
  constructor(req: http.IncomingMessage, res: http.ServerResponse) {
    this.#req = req;
    this.#res = res;
  }
  get headersSent(): boolean { return this.#res.headersSent; }
  // node marks the response destroyed when its connection closes.
  get clientGone(): boolean { return this.#res.destroyed && !this.#res.writableFinished; }
  writeHead(status: number, reason: string, headers: string[]): void {
    this.#res.writeHead(status, reason, headers as unknown as http.OutgoingHttpHeaders);
    // node sends the head with the first write; a stream that starts later (long polls, server-sent events) gets it now.
    process.nextTick(NodeFrontResponse.#flushHead, this);
  }
  static #flushHead(self: NodeFrontResponse): void {
    if (!self.#bodyStarted && !self.#res.destroyed) self.#res.flushHeaders();
  }
  write(chunk: Buffer): boolean {
    this.#bodyStarted = true;
    return this.#res.write(chunk);
  }
  holdsData(): boolean { return this.#res.writableLength > 0; }
  /**
   * An app may answer before it read the body (a 413 for an upload, say).
   * Ending the response lets node close the connection, and closing it with
   * unread bytes resets it: the client, still sending, would get ECONNRESET
   * instead of the answer. So the rest of the body is read and dropped first
   * (a lingering close, as nginx does), for at most LINGER_MS.
   */
  end(): void {
    this.#bodyStarted = true;
    const req = this.#req;
    // complete: the whole request was read off the connection (a bodiless one at once), consumed or not.
    if (req.complete || req.destroyed) { this.#res.end(); return; }
    const finish = () => {
      clearTimeout(timer);
      if (!this.#res.writableEnded) this.#res.end();
    };
    const timer = setTimeout(finish, LINGER_MS);
    timer.unref();
    req.once('end', finish);
    req.once('close', finish);
    req.resume();
  }
  abort(): void { this.#res.destroy(); }
  onDrain(cb: () => void): void { this.#res.once('drain', cb); }
  onClose(cb: () => void): void {
    this.#res.once('close', () => { if (!this.#res.writableFinished) cb(); });
  }
}

export class HttpEngine {
  readonly #server: http.Server;
  readonly #opts: HttpEngineOptions;
  readonly #log: Logger;
  readonly #forwarder: Forwarder;
  readonly #limiter: ConnectionLimiter | undefined;
  #port = 0;

  constructor(forwarder: Forwarder, log: Logger, opts: HttpEngineOptions) {
    this.#forwarder = forwarder;
    this.#log = log;
    this.#opts = opts;
    // No overall request timeout: uploads and streams may take long. Slow heads are cut off (slow bodies: forward.ts).
    // node checks head deadlines every connectionsCheckingInterval (30 s by default): often enough that the limit holds.
    const headers = opts.headerTimeoutMs;
    this.#server = http.createServer({
      requestTimeout: 0, headersTimeout: headers, keepAliveTimeout: 5_000,
      connectionsCheckingInterval: headers > 0 ? Math.min(Math.max(headers / 4, 250), 5_000) : 30_000,
    }, (req, res) => this.#onRequest(req, res));
    const maxPerClient = opts.maxConnectionsPerClient ?? 0;
    if (maxPerClient > 0) {
      const limiter = this.#limiter = new ConnectionLimiter(maxPerClient, opts.isExemptFromConnectionLimit);
      limiter.attach(this.#server);
      let lastWarned = 0;
      limiter.onRefuse = (address, max) => {
        // One line per 10 s at most: a client opening connections in a loop must not flood the log.
        const now = Date.now();
        if (now - lastWarned < 10_000) return;
        lastWarned = now;
        this.#log.warn(`refused a connection from ${address}: it already has ${max} open (max_connections_per_client); 503`);
      };
    }
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      if (this.#limiter?.refused(req.socket)) return;
      void this.#forwarder.upgrade(this.#opts.appFor(req), frontRequest(req, this.#port), socket, head);
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
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
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
        this.#log.warn(`a client did not send a complete request head within client_header_timeout (${this.#opts.headerTimeoutMs / 1000} s); 408`);
        endWith(socket, 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      this.#log.warn(`malformed HTTP request from a client: ${err.code ?? ''} ${err.message}`);
      endWith(socket, tooLarge
        ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
        : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
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
      if (handedOver) this.#server.listen(handedOver, onListening);
      else this.#server.listen(this.#opts.port, this.#opts.address, onListening);
    });
  }

  /** Serves a connection that was accepted elsewhere (held by the watchdog while the core restarted). */
  accept(socket: Socket): void {
    this.#server.emit('connection', socket);
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    // Already answered 503 when it connected.
    if (this.#limiter?.refused(req.socket)) return;
    const front = frontRequest(req, this.#port);
    const out = new NodeFrontResponse(req, res);
    let app: AppSpec;
    try {
      app = this.#opts.appFor(req);
    } catch (e) {
      sendError(front, out, e);
      return;
    }
    void this.#forwarder.handle(app, front, out);
  }

  /** Stops accepting, lets in-flight requests finish within `graceMs`, then cuts what is left. */
  async close(graceMs: number): Promise<void> {
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeIdleConnections();
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([this.#forwarder.idle(), timer]);
    this.#server.closeAllConnections();
    await closed;
  }
}

function endWith(socket: Duplex, response: string): void {
  if (socket.writable) socket.end(response);
  else socket.destroy();
}
