// The `http_session` protocol (docs/protocols.md section 3): plain HTTP/1.1 to
// the address the app reported, over keep-alive connections pooled per process.
// Requests go through the same exchange as the session protocol (a lean
// client: one head write, the strict response parser); upgrades splice the
// client's socket to the app's after node's HTTP client made the handshake.
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { PassengerError } from '../errors/passenger-error.ts';
import type { ForwardOutcome, ForwardTarget, Protocol } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from '../server/front.ts';
import { connectOptions } from '../spawn/socket-address.ts';
import { Exchange, type Wire } from './exchange.ts';
import { encodeHttpHead, upstreamHeaders } from './http-request-head.ts';
import { releaseUpstreamPool, upstreamPool } from './upstream-pool.ts';

const httpWire: Wire = {
  keepAlive: () => true,
  head: (req, _target, keepAlive) => encodeHttpHead(req, !keepAlive),
  httpFraming: true,
};

function forward(target: ForwardTarget, req: FrontRequest, res: FrontResponse): Promise<ForwardOutcome> {
  return new Promise((resolve) => new Exchange(httpWire, upstreamPool(target), req, res, resolve).start());
}

// Dropped from a declined upgrade's answer, which is relayed in chunks: framing and connection headers.
const NOT_RELAYED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length']);

/** WebSocket and other upgrades: send the head, then splice the two sockets. */
function upgrade(target: ForwardTarget, req: FrontRequest, client: Duplex, head: Buffer): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    const where = connectOptions(target.socket.address);
    const up = http.request({
      ...('path' in where ? { socketPath: where.path } : where), method: req.method, path: req.url, agent: false, setHost: false,
      headers: upstreamHeaders(req, { keepUpgrade: true, framing: true }) as unknown as http.OutgoingHttpHeaders,
    });
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
      const raw = ur.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) {
        if (!NOT_RELAYED.has(raw[i]!.toLowerCase())) headText += `${raw[i]}: ${raw[i + 1]}\r\n`;
      }
      client.write(headText + 'Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n');
      ur.on('data', (c: Buffer) => {
        if (c.length > 0) client.write(`${c.length.toString(16)}\r\n${c.toString('latin1')}\r\n`, 'latin1');
      });
      ur.on('end', () => { client.end('0\r\n\r\n'); finish({ ok: true }); });
    });
    up.on('error', (e: Error) => {
      client.destroy();
      finish({ ok: false, processHealthy: false, error: new PassengerError('PSG_ERR_APP_CONNECT', `upgrade to process ${target.pid} failed: ${e.message}`) });
    });
    up.end();
  });
}

export const httpSessionProtocol: Protocol = { name: 'http_session', forward, upgrade, release: releaseUpstreamPool };
