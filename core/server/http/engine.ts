// The built-in HTTP engine for standalone use: node:http in front, the
// forwarding path behind. Malformed requests get 400/431 and a log line;
// bodies stream both ways; SIGTERM drains in-flight requests first.
import http from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { AppSpec } from '../../config/app-spec.ts';
import type { Logger } from '../../log/logger.ts';
import type { Forwarder } from '../forward.ts';
import type { FrontRequest, FrontResponse } from '../front.ts';
import { sendError } from '../error-response.ts';
import { PassengerError } from '../../errors/passenger-error.ts';
import type { FrontIntercept } from '../front-intercept.ts';

export interface HttpEngineOptions {
  port: number;
  address: string;
  /** Largest request body in bytes; 0: no limit. */
  maxBodySize: number;
  /** Which app serves a request (standalone: always the one app). */
  appFor(req: http.IncomingMessage): AppSpec;
  /** Answers some requests before the pool (static files, ssl_redirect); true: answered. */
  intercept?: FrontIntercept | undefined;
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
  // TLS connections come from tls/tls-front.ts, possibly on ssl_port rather than the engine's port.
  const https = (sock as { encrypted?: boolean }).encrypted === true;
  if (https) localPort = sock.localPort ?? localPort;
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    httpVersion: req.httpVersion,
    rawHeaders: req.rawHeaders,
    remoteAddress: sock.remoteAddress ?? '127.0.0.1',
    remotePort: sock.remotePort ?? 0,
    serverName: host ? (colon > 0 && !host.endsWith(']') ? host.slice(0, colon) : host) : (sock.localAddress ?? 'localhost'),
    serverPort: colon > 0 && !host.endsWith(']') ? Number(host.slice(colon + 1)) || localPort : localPort,
    https,
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
  #port = 0;

  constructor(forwarder: Forwarder, log: Logger, opts: HttpEngineOptions) {
    this.#forwarder = forwarder;
    this.#log = log;
    this.#opts = opts;
    // No overall request timeout: uploads and streams may take long. Slow headers are still cut off.
    this.#server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => {});
      void this.#forwarder.upgrade(this.#opts.appFor(req), frontRequest(req, this.#port), socket, head);
    });
    this.#server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
      // A client that went away (a load generator stopping, a browser tab closed) sent nothing wrong.
      if (err.code !== undefined && GONE.has(err.code)) {
        this.#log.debug(`a client connection ended abruptly: ${err.code}`);
        socket.destroy();
        return;
      }
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      this.#log.warn(`malformed HTTP request from a client: ${err.code ?? ''} ${err.message}`);
      if (socket.writable) {
        socket.end(tooLarge
          ? 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'
          : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      } else socket.destroy();
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
    const front = frontRequest(req, this.#port);
    const out = new NodeFrontResponse(req, res);
    let app: AppSpec;
    try {
      app = this.#opts.appFor(req);
    } catch (e) {
      sendError(front, out, e);
      return;
    }
    if (this.#opts.intercept?.(req, res, app)) return;
    const max = this.#opts.maxBodySize;
    const tooLarge = (size: string) => {
      res.setHeader('Connection', 'close');
      sendError(front, out, new PassengerError('PSG_ERR_HTTP_BODY_TOO_LARGE', `request body of ${size} bytes is larger than max_body_size (${max})`));
    };
    if (max > 0 && front.contentLength !== undefined && front.contentLength > max) {
      tooLarge(String(front.contentLength));
      return;
    }
    if (max > 0 && front.body && front.contentLength === undefined) {
      // A chunked body of unknown size: read it (at most max_body_size) before the app sees any of it.
      void bufferLimited(req, max).then((body) => {
        if (!body) { tooLarge('more than ' + max); return; }
        front.body = Readable.from([body]);
        front.contentLength = body.length;
        void this.#forwarder.handle(app, front, out);
      }, () => res.destroy());
      return;
    }
    void this.#forwarder.handle(app, front, out);
  }

  /** A request that arrived elsewhere (HTTP/2, tls/tls-front.ts), served like one of ours. */
  dispatch(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#onRequest(req, res);
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

/** The whole body, or undefined as soon as it exceeds `max` bytes. */
async function bufferLimited(body: Readable, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
