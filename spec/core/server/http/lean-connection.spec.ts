// The lean engine's connection (core/server/http/lean-connection.ts) on real
// loopback sockets, with a host that records what it is asked to do: small
// bodies are read whole, however they arrive, before the request is served;
// what the lean parser declines goes to node:http with every unread byte.
import { expect } from 'chai';
import net from 'node:net';
import { LeanConnection, type LeanHost } from '../../../../core/server/http/lean-connection.ts';
import type { LeanHead } from '../../../../core/server/http/lean-head.ts';
import { exchangeRaw } from '../../../support/http-get.ts';

interface Recorded { served: { method: string; url: string; body: string }[]; handedOver: string[]; timedOut: boolean[] }

/** A server whose connections are lean ones; each served request is answered 200 with its body's length. */
async function leanServer(headerTimeoutMs = 0): Promise<{ port: number; log: Recorded; close(): Promise<void> }> {
  const log: Recorded = { served: [], handedOver: [], timedOut: [] };
  const host: LeanHost = {
    drain: { closing: false },
    headerTimeoutMs,
    serve(head: LeanHead, body: Buffer, _socket, res) {
      log.served.push({ method: head.method, url: head.url, body: body.toString('latin1') });
      const text = `${head.method} ${body.length}`;
      res.writeHead(200, 'OK', ['Content-Length', String(text.length)]);
      res.write(Buffer.from(text));
      res.end();
      return true;
    },
    handOver(socket, unread) {
      log.handedOver.push(unread.toString('latin1'));
      socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    },
    headerTimedOut(socket, bodyPending) {
      log.timedOut.push(bodyPending);
      socket.destroy();
    },
    forget() {},
  };
  const server = net.createServer((socket) => new LeanConnection(socket, host));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    log,
    close: () => new Promise((r) => { server.close(() => r()); }),
  };
}

/** Writes the pieces 30 ms apart and collects what comes back until the server closes or `waitMs` passes. */
function talk(port: number, pieces: string[], waitMs = 600): Promise<string> {
  return exchangeRaw(port, pieces, { gapMs: 30, waitMs });
}

describe('the lean engine\'s connection', () => {
  let s: Awaited<ReturnType<typeof leanServer>>;
  afterEach(async () => { await s.close(); });

  it('serves a small body that came with its head, itself', async () => {
    s = await leanServer();
    const out = await talk(s.port, ['POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nname=a&b=cd']);
    expect(s.log.served).to.deep.equal([{ method: 'POST', url: '/form', body: 'name=a&b=cd' }]);
    expect(s.log.handedOver).to.deep.equal([]);
    expect(out).to.match(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nPOST 11$/);
  });

  it('waits for a body that comes in pieces after its head, and serves it whole once', async () => {
    s = await leanServer();
    await talk(s.port, ['PUT /doc HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n', '01234', '567', '89']);
    expect(s.log.served).to.deep.equal([{ method: 'PUT', url: '/doc', body: '0123456789' }]);
  });

  it('serves a pipelined request behind a body, in order', async () => {
    s = await leanServer();
    const out = await talk(s.port, ['POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcDELETE /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n']);
    expect(s.log.served).to.deep.equal([
      { method: 'POST', url: '/a', body: 'abc' },
      { method: 'DELETE', url: '/b', body: '' },
      { method: 'GET', url: '/c', body: '' },
    ]);
    expect(out.match(/HTTP\/1\.1 200/g)).to.have.length(3);
  });

  it('hands a chunked or a large body to node:http with every byte, after serving the requests before it', async () => {
    s = await leanServer();
    const chunked = 'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    await talk(s.port, [`GET / HTTP/1.1\r\nHost: x\r\n\r\n${chunked}`]);
    expect(s.log.served.map((r) => r.url)).to.deep.equal(['/']);
    expect(s.log.handedOver).to.deep.equal([chunked]);
    const large = `POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${64 * 1024 + 1}\r\n\r\n`;
    await talk(s.port, [large]);
    expect(s.log.handedOver[1]).to.equal(large);
  });

  it('answers 408 (through its host) to a body that does not arrive in full within client_header_timeout', async () => {
    s = await leanServer(300);
    await talk(s.port, ['POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it'], 1000);
    expect(s.log.served).to.deep.equal([]);
    expect(s.log.timedOut).to.deep.equal([true]);
  });
});
