// The `session` protocol (docs/protocols.md section 2): one Unix-socket
// connection per request, a binary CGI head, the body, and an HTTP/1.1
// response that is validated before anything reaches the client.
import net from 'node:net';
import { PassengerError } from '../errors/passenger-error.ts';
import type { ForwardOutcome, ForwardTarget, Protocol } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from '../server/front.ts';
import { connectOptions } from '../spawn/socket-address.ts';
import { encodeSessionHead } from './cgi-vars.ts';
import { ResponseParser } from './response-parser.ts';

function forward(target: ForwardTarget, req: FrontRequest, res: FrontResponse): Promise<ForwardOutcome> {
  return new Promise((resolve) => {
    const sock = net.connect(connectOptions(target.socket.address) as net.NetConnectOpts);
    let connected = false;
    let settled = false;
    const finish = (outcome: ForwardOutcome) => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(outcome);
    };
    // `broken`: the connection itself failed (the process may be gone), as opposed to a bad response.
    const fail = (code: 'PSG_ERR_APP_RESPONSE' | 'PSG_ERR_APP_CONNECT', why: string, broken: boolean) => {
      if (settled) return;
      if (res.headersSent) res.abort();
      finish({ ok: false, processHealthy: !broken, retryable: !connected, error: new PassengerError(code, why, { pid: target.pid }) });
    };
    const parser = new ResponseParser({
      head: (h) => res.writeHead(h.status, h.reason, h.headers),
      body: (chunk) => {
        if (!res.write(chunk)) {
          sock.pause();
          res.onDrain(() => sock.resume());
        }
      },
    }, req.method === 'HEAD');
    const complete = () => {
      res.end();
      finish({ ok: true });
    };
    sock.on('connect', () => {
      connected = true;
      sock.setNoDelay(true);
      sock.write(encodeSessionHead(req, target.connectPassword, target.baseUri));
      if (req.body) req.body.pipe(sock);
      else sock.end();
    });
    sock.on('data', (data: Buffer) => {
      try {
        parser.feed(data);
      } catch (e) {
        fail('PSG_ERR_APP_RESPONSE', `invalid response from process ${target.pid}: ${(e as Error).message}`, false);
        return;
      }
      if (parser.done) complete();
    });
    sock.on('end', () => {
      try {
        parser.end();
      } catch (e) {
        // Closed before any response: the process may have died with the request.
        fail('PSG_ERR_APP_RESPONSE', `invalid response from process ${target.pid}: ${(e as Error).message}`, !parser.headReceived);
        return;
      }
      complete();
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // The app may answer and close without reading the whole body: that response stands.
      if (parser.done) { complete(); return; }
      fail(connected ? 'PSG_ERR_APP_RESPONSE' : 'PSG_ERR_APP_CONNECT',
        connected ? `process ${target.pid} broke the connection (${e.code ?? e.message})` : `cannot connect to process ${target.pid} at ${target.socket.address} (${e.code ?? e.message})`, true);
    });
    res.onClose(() => {
      if (settled) return;
      req.body?.unpipe(sock);
      finish({ ok: false, processHealthy: true, error: new PassengerError('PSG_ERR_APP_RESPONSE', 'the client went away before the response was complete') });
    });
  });
}

export const sessionProtocol: Protocol = { name: 'session', forward };
