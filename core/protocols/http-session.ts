// The `http_session` protocol (docs/protocols.md section 3): plain HTTP/1.1 to
// the address the app reported, over keep-alive connections pooled per process.
import http from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { PassengerError } from '../errors/passenger-error.ts';
import type { ForwardOutcome, ForwardTarget, Protocol } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from '../server/front.ts';
import { connectOptions } from '../spawn/socket-address.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/** Per process: its keep-alive agent and its parsed address, so that a request parses nothing twice. */
interface Upstream {
  agent: http.Agent;
  socketPath: string | undefined;
  host: string | undefined;
  port: number | undefined;
}

const upstreams = new WeakMap<ForwardTarget, Upstream>();

function upstreamFor(target: ForwardTarget): Upstream {
  let u = upstreams.get(target);
  if (!u) {
    const conc = target.socket.concurrency;
    const where = connectOptions(target.socket.address);
    u = {
      agent: new http.Agent({ keepAlive: true, maxSockets: conc === 0 ? 256 : conc, maxFreeSockets: 256, scheduling: 'lifo' }),
      socketPath: 'path' in where ? where.path : undefined,
      host: 'host' in where ? where.host : undefined,
      port: 'port' in where ? where.port : undefined,
    };
    upstreams.set(target, u);
  }
  return u;
}

/** Headers named in Connection are hop-by-hop too. */
function connectionTokens(raw: string[]): Set<string> | undefined {
  let set: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) (set ??= new Set()).add(t.trim().toLowerCase());
    }
  }
  return set;
}

/** The request headers for the app: hop-by-hop removed, X-Forwarded-* set by us. */
export function upstreamHeaders(req: FrontRequest, keepUpgrade: boolean): string[] {
  const raw = req.rawHeaders;
  const extra = connectionTokens(raw);
  const out: string[] = [];
  let host = '';
  let priorFor = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (lower === 'host') host = raw[i + 1]!;
    if (FORWARDED.has(lower)) {
      if (lower === 'x-forwarded-for') priorFor = priorFor ? `${priorFor}, ${raw[i + 1]}` : raw[i + 1]!;
      continue;
    }
    if ((HOP_BY_HOP.has(lower) || extra?.has(lower)) && !(keepUpgrade && (lower === 'upgrade' || lower === 'connection'))) continue;
    out.push(name, raw[i + 1]!);
  }
  out.push('X-Forwarded-For', priorFor ? `${priorFor}, ${req.remoteAddress}` : req.remoteAddress);
  out.push('X-Forwarded-Proto', req.https ? 'https' : 'http');
  if (host) out.push('X-Forwarded-Host', host);
  return out;
}

function responseHeaders(raw: string[]): string[] {
  const extra = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || extra?.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function requestOptions(u: Upstream, req: FrontRequest, headers: string[], agent: http.Agent | false): http.RequestOptions {
  return {
    socketPath: u.socketPath, host: u.host, port: u.port,
    method: req.method, path: req.url, agent, setHost: false,
    headers: headers as unknown as http.OutgoingHttpHeaders,
  };
}

function forward(target: ForwardTarget, req: FrontRequest, res: FrontResponse): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let sent = false;
    const finish = (o: ForwardOutcome) => { if (!settled) { settled = true; resolve(o); } };
    const u = upstreamFor(target);
    const up = http.request(requestOptions(u, req, upstreamHeaders(req, false), u.agent));
    const fail = (why: string, e?: NodeJS.ErrnoException) => {
      if (settled) return;
      if (res.headersSent) res.abort();
      up.destroy();
      const connectFailure = !sent && (e?.code === 'ECONNREFUSED' || e?.code === 'ENOENT');
      finish({ ok: false, processHealthy: false, retryable: connectFailure,
        error: new PassengerError(connectFailure ? 'PSG_ERR_APP_CONNECT' : 'PSG_ERR_APP_RESPONSE', why, { pid: target.pid }) });
    };
    // The body starts flowing only once connected, so a refused connection leaves it unread for a retry.
    const start = () => {
      sent = true;
      if (req.body) req.body.pipe(up);
      else up.end();
    };
    up.on('socket', (s: net.Socket) => {
      if (s.connecting) s.once('connect', start); else start();
    });
    up.on('response', (ur: http.IncomingMessage) => {
      res.writeHead(ur.statusCode ?? 502, ur.statusMessage ?? '', responseHeaders(ur.rawHeaders));
      ur.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) {
          ur.pause();
          res.onDrain(() => ur.resume());
        }
      });
      ur.on('end', () => { res.end(); finish({ ok: true }); });
      ur.on('aborted', () => fail(`process ${target.pid} closed the connection in the middle of the response`));
      ur.on('error', (e: NodeJS.ErrnoException) => fail(`process ${target.pid}: ${e.message}`, e));
    });
    up.on('error', (e: NodeJS.ErrnoException) => fail(`cannot reach process ${target.pid} at ${target.socket.address}: ${e.code ?? e.message}`, e));
    res.onClose(() => {
      if (settled) return;
      up.destroy();
      finish({ ok: false, processHealthy: true, error: new PassengerError('PSG_ERR_APP_RESPONSE', 'the client went away before the response was complete') });
    });
  });
}

/** WebSocket and other upgrades: send the head, then splice the two sockets. */
function upgrade(target: ForwardTarget, req: FrontRequest, client: Duplex, head: Buffer): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    const up = http.request(requestOptions(upstreamFor(target), req, upstreamHeaders(req, true), false));
    let done = false;
    const finish = (o: ForwardOutcome) => { if (!done) { done = true; resolve(o); } };
    up.on('upgrade', (ur: http.IncomingMessage, appSocket: net.Socket, appHead: Buffer) => {
      let headText = `HTTP/1.1 ${ur.statusCode} ${ur.statusMessage}\r\n`;
      for (let i = 0; i < ur.rawHeaders.length; i += 2) headText += `${ur.rawHeaders[i]}: ${ur.rawHeaders[i + 1]}\r\n`;
      client.write(headText + '\r\n');
      if (appHead.length) client.write(appHead);
      if (head.length) appSocket.write(head);
      appSocket.pipe(client).pipe(appSocket);
      const close = () => { appSocket.destroy(); client.destroy(); finish({ ok: true }); };
      appSocket.on('close', close);
      client.on('close', close);
      appSocket.on('error', close);
      client.on('error', close);
    });
    up.on('response', (ur: http.IncomingMessage) => {
      // The app declined the upgrade: relay its answer as a normal response.
      let headText = `HTTP/1.1 ${ur.statusCode} ${ur.statusMessage}\r\n`;
      const headers = responseHeaders(ur.rawHeaders);
      for (let i = 0; i < headers.length; i += 2) headText += `${headers[i]}: ${headers[i + 1]}\r\n`;
      client.write(headText + 'Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n');
      ur.on('data', (c: Buffer) => { client.write(`${c.length.toString(16)}\r\n`); client.write(c); client.write('\r\n'); });
      ur.on('end', () => { client.end('0\r\n\r\n'); finish({ ok: true }); });
    });
    up.on('error', (e: Error) => {
      client.destroy();
      finish({ ok: false, processHealthy: false, error: new PassengerError('PSG_ERR_APP_CONNECT', `upgrade to process ${target.pid} failed: ${e.message}`) });
    });
    up.end();
  });
}

function release(target: ForwardTarget): void {
  upstreams.get(target)?.agent.destroy();
  upstreams.delete(target);
}

export const httpSessionProtocol: Protocol = { name: 'http_session', forward, upgrade, release };
