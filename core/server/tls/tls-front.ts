// TLS termination in the core, on the listening socket the watchdog hands
// over (the watchdog never sees a key). ALPN picks the protocol per
// connection: HTTP/1.1 connections go to the engine's own HTTP server (so
// keep-alive, upgrades and WebSocket work as on plain HTTP), HTTP/2 ones to
// a node:http2 server whose requests the engine serves through dispatch().
// The certificate is reloaded with setSecureContext: open connections keep
// theirs, new handshakes get the new one.
import tls from 'node:tls';
import http2 from 'node:http2';
import type net from 'node:net';
import type { Logger } from '../../log/logger.ts';
import type { HttpEngine } from '../http/engine.ts';
import { loadCredentials, type TlsCredentials } from './certificates.ts';
import { adaptHttp2 } from './h2-request.ts';
import type { TlsReloadable } from './reload.ts';
import { closeAfterAccepting } from '../listener-close.ts';

export interface TlsFrontOptions {
  certFile: string;
  keyFile: string;
  http2: boolean;
  /** The listen backlog (socket_backlog). */
  backlog?: number | undefined;
}

/** An idle HTTP/2 connection is closed after this long, like an idle HTTP/1.1 keep-alive one (a little later). */
const H2_IDLE_MS = 120_000;

export class TlsFront implements TlsReloadable {
  readonly #opts: TlsFrontOptions;
  readonly #log: Logger;
  readonly #tls: tls.Server;
  readonly #h2: http2.Http2Server | undefined;
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  #port = 0;

  /** Throws PSG_ERR_TLS_CERTIFICATE when the files are bad. */
  constructor(engine: HttpEngine, log: Logger, opts: TlsFrontOptions) {
    this.#opts = opts;
    this.#log = log;
    const creds = this.#load();
    // noDelay, as node:http sets on plain connections: with Nagle on, a response's last TLS record waits for
    // the client's delayed ACK (~40 ms per 1 MiB GET over HTTP/1.1).
    this.#tls = tls.createServer({
      cert: creds.cert, key: creds.key, minVersion: 'TLSv1.2', noDelay: true,
      ALPNProtocols: opts.http2 ? ['h2', 'http/1.1'] : ['http/1.1'],
    });
    if (opts.http2) {
      const h2 = http2.createServer();
      h2.setTimeout(H2_IDLE_MS);
      h2.on('session', (s: http2.ServerHttp2Session) => {
        this.#sessions.add(s);
        s.once('close', () => this.#sessions.delete(s));
        s.on('error', (e: Error) => log.debug(`an HTTP/2 connection failed: ${e.message}`));
      });
      h2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
        const adapted = adaptHttp2(req, res);
        engine.dispatch(adapted.req, adapted.res);
      });
      this.#h2 = h2;
    }
    this.#tls.on('secureConnection', (socket: tls.TLSSocket) => {
      if (socket.alpnProtocol === 'h2' && this.#h2) this.#h2.emit('connection', socket);
      else engine.accept(socket);
    });
    // A failed handshake (a client that does not trust the certificate, a port scan) is the client's business.
    this.#tls.on('tlsClientError', (e: Error) => log.debug(`a TLS handshake failed: ${e.message}`));
  }

  get port(): number { return this.#port; }

  #load(): TlsCredentials {
    const creds = loadCredentials(this.#opts.certFile, this.#opts.keyFile);
    for (const w of creds.warnings) this.#log.warn(w);
    return creds;
  }

  /** Serves TLS on a listening socket handed over by the watchdog. */
  listen(handle: net.Server): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#tls.once('error', reject);
      this.#tls.listen(handle, this.#opts.backlog, () => {
        this.#tls.off('error', reject);
        const address = this.#tls.address();
        this.#port = typeof address === 'object' && address ? address.port : 0;
        resolve(this.#port);
      });
    });
  }

  /** A raw connection accepted elsewhere (held by the watchdog while the core restarted): the handshake starts here. */
  accept(socket: net.Socket): void {
    this.#tls.emit('connection', socket);
  }

  reload(): string {
    const creds = this.#load();
    this.#tls.setSecureContext({ cert: creds.cert, key: creds.key });
    this.#log.info(`TLS certificate reloaded: ${creds.summary}`);
    return creds.summary;
  }

  /**
   * Stops accepting; HTTP/2 connections are told to go away once their
   * streams finish, and cut after `graceMs`. (HTTP/1.1 connections belong to
   * the engine, which closes them.)
   */
  async close(graceMs: number): Promise<void> {
    let closedAll!: () => void;
    const closed = new Promise<void>((r) => { closedAll = r; });
    await closeAfterAccepting(this.#tls, () => this.#tls.close(() => closedAll()));
    for (const s of this.#sessions) s.close();
    let timer: NodeJS.Timeout | undefined;
    // A connection still in its handshake would hold close() for the handshake timeout: do not wait for it.
    const cut = new Promise<void>((r) => { timer = setTimeout(() => { for (const s of this.#sessions) s.destroy(); r(); }, graceMs); });
    await Promise.race([closed, cut]);
    clearTimeout(timer);
  }
}
