// The SCGI request handler: the front end nginx (scgi_pass) and Apache
// (mod_proxy_scgi) talk to. One request per connection: parse the head
// strictly, pick the app from PASSENGER_APP_ROOT, stream the body to the
// forwarding path and the CGI-style reply back. Malformed input closes the
// connection with one log line; the server keeps serving.
import { maskQuery } from '../../error-reports/mask-query.ts';
import type net from 'node:net';
import type { Socket } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { AppSpec } from '../../config/app-spec.ts';
import type { Logger } from '../../log/logger.ts';
import type { Forwarder } from '../forward.ts';
import { describeError } from '../../errors/passenger-error.ts';
import { sendError } from '../error-response.ts';
import { ScgiHeadParser, defaultScgiLimits, type ScgiHead, type ScgiLimits } from './parser.ts';
import { scgiFrontRequest, wantsUpgrade } from './front-request.ts';
import { ScgiFrontResponse } from './front-response.ts';
import { scgiBodyStream } from './body-stream.ts';
import { scgiUpgradeStream } from './upgrade-stream.ts';
import type { ProxyTrust } from '../trusted-proxies.ts';
import { closeAfterAccepting } from '../listener-close.ts';
import { setListenBacklog } from '../listen-backlog.ts';
import { readIntoSharedBuffer } from '../shared-read-buffer.ts';

export const SECRET_PARAM = 'PASSENGER_SCGI_SECRET';

export interface ScgiServerOptions {
  limits?: ScgiLimits;
  /** A head not complete after this long is cut off (slow or stuck front ends), in ms. */
  headTimeoutMs?: number;
  /** When set, every request must carry it as PASSENGER_SCGI_SECRET (the front web server's configuration has it). */
  secret?: string;
  /** Whether a client address (REMOTE_ADDR) is a trusted proxy, whose X-Forwarded-* headers are kept. */
  trusts: ProxyTrust;
  /** The app a request is for, from its parameters (PASSENGER_APP_ROOT and PASSENGER_* options). */
  appFor(params: ReadonlyMap<string, string>): AppSpec | Promise<AppSpec>;
  /** The listen backlog (socket_backlog) set on adopted sockets; node's 511 when not given. */
  backlog?: number | undefined;
}

function peerOf(socket: Socket): string {
  return socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'a Unix socket peer';
}

export class ScgiServer {
  readonly #forwarder: Forwarder;
  readonly #log: Logger;
  readonly #opts: ScgiServerOptions;
  readonly #listeners = new Set<net.Server>();
  readonly #sockets = new Set<Socket>();
  #closing = false;

  constructor(forwarder: Forwarder, log: Logger, opts: ScgiServerOptions) {
    this.#forwarder = forwarder;
    this.#log = log.child('[scgi]');
    this.#opts = opts;
  }

  /** Serves connections accepted by this listening server, with the configured backlog. */
  adopt(listener: net.Server): void {
    this.#listeners.add(listener);
    listener.on('connection', (s: Socket) => this.handleConnection(s));
    const backlog = this.#opts.backlog;
    if (backlog !== undefined && !setListenBacklog(listener, backlog)) this.#log.warn(`could not set the SCGI socket's backlog to ${backlog} (socket_backlog); it stays at 511`);
  }

  /** One connection from a front web server. */
  handleConnection(socket: Socket): void {
    if (this.#closing) { socket.destroy(); return; }
    this.#sockets.add(socket);
    // Over TCP (scgi_address), Nagle would hold a streamed response's small writes for the front's
    // delayed ACK: the listener handed over by the watchdog is a plain net.Server, which leaves it on.
    // A no-op on the Unix socket.
    socket.setNoDelay(true);
    readIntoSharedBuffer(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', (e: NodeJS.ErrnoException) => this.#log.debug(`connection error: ${e.code ?? e.message}`));
    const parser = new ScgiHeadParser(this.#opts.limits ?? defaultScgiLimits);
    let received = 0;
    const timer = setTimeout(() => {
      this.#log.warn(`the SCGI request head from ${peerOf(socket)} was not complete after ${this.#opts.headTimeoutMs ?? 30_000} ms (${received} bytes); closing the connection`);
      socket.destroy();
    }, this.#opts.headTimeoutMs ?? 30_000);
    timer.unref();
    const stop = () => { clearTimeout(timer); socket.off('data', onData); socket.off('end', onEnd); };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      let head: ScgiHead | undefined;
      try {
        head = parser.push(chunk);
      } catch (e) {
        stop();
        this.#log.warn(`malformed SCGI request from ${peerOf(socket)}: ${describeError(e)}; closing the connection`);
        socket.destroy();
        return;
      }
      if (!head) return;
      stop();
      if (!this.#authorized(head)) {
        this.#log.warn(`an SCGI request from ${peerOf(socket)} did not carry this instance's PASSENGER_SCGI_SECRET (generate the web server configuration with passenger nginx-config); closing the connection`);
        socket.destroy();
        return;
      }
      socket.pause();
      void this.#dispatch(socket, head);
    };
    const onEnd = () => {
      stop();
      if (received > 0) this.#log.warn(`${peerOf(socket)} closed the connection after ${received} bytes, before the SCGI request head was complete`);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
  }

  #authorized(head: ScgiHead): boolean {
    const expected = this.#opts.secret;
    if (expected === undefined) return true;
    const given = Buffer.from(head.params.get(SECRET_PARAM) ?? '');
    const want = Buffer.from(expected);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  async #dispatch(socket: Socket, head: ScgiHead): Promise<void> {
    const upgrade = wantsUpgrade(head.params) && head.contentLength === 0;
    const body = head.contentLength > 0 && !upgrade ? scgiBodyStream(socket, head.rest, head.contentLength) : null;
    const req = scgiFrontRequest(head.params, head.contentLength, body, this.#opts.trusts);
    const res = new ScgiFrontResponse(socket);
    let app: AppSpec;
    try {
      app = await this.#opts.appFor(head.params);
    } catch (e) {
      this.#log.warn(`${req.method} ${maskQuery(req.url)}: ${describeError(e)}`);
      socket.resume();
      sendError(req, res, e);
      return;
    }
    if (upgrade) {
      await this.#forwarder.upgrade(app, req, scgiUpgradeStream(socket), head.rest);
      return;
    }
    // Keep reading after the body so that a client going away is noticed (the bytes are ignored).
    if (!body) socket.resume();
    else body.once('end', () => socket.resume());
    await this.#forwarder.handle(app, req, res);
  }

  /** Stops accepting, lets requests in flight finish within `graceMs`, then cuts what is left. */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#listeners].map((l) => new Promise<void>((r) => { void closeAfterAccepting(l, () => l.close(() => r())); })));
    const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([this.#forwarder.idle(), timer]);
    for (const s of this.#sockets) s.destroy();
  }
}
