// The lean engine's connection (core/server/http/lean-connection.ts) on real
// loopback sockets, with a host that records what it is asked to do: small
// bodies are read whole, however they arrive, before the request is served;
// larger ones stream, with backpressure, through a few reused buffers, and
// what the app leaves unread is dropped before the next request; what the
// lean parser declines goes to node:http with every unread byte.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { LeanConnection, type LeanHost } from '../../../../core/server/http/lean-connection.ts';
import { MAX_LEAN_BODY, type LeanHead } from '../../../../core/server/http/lean-head.ts';
import type { PooledBody } from '../../../../core/server/pooled-body.ts';
import type { LeanFrontResponse } from '../../../../core/server/http/lean-response.ts';
import { exchangeRaw } from '../../../support/http-get.ts';

interface Streamed { url: string; body: PooledBody; res: LeanFrontResponse }
interface Recorded {
  served: { method: string; url: string; body: string }[];
  streamed: Streamed[];
  /** The memory of every chunk of 4 KiB or more that `/read` got. */
  chunkMemory: ArrayBufferLike[];
  handedOver: string[];
  timedOut: boolean[];
}

function answer(res: LeanFrontResponse, text: string, close = false): void {
  res.writeHead(200, 'OK', ['Content-Length', String(text.length), ...(close ? ['Connection', 'close'] : [])]);
  res.write(Buffer.from(text));
  res.end();
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/**
 * A server whose connections are lean ones. A request read whole is answered
 * 200 with its body's length. A streamed body's request is answered as its
 * path says: `/read` once the body was read (its length and hash), `/early`
 * and `/early-close` at once without reading it, `/later` by the spec.
 */
async function leanServer(headerTimeoutMs = 0): Promise<{ port: number; log: Recorded; close(): Promise<void> }> {
  const log: Recorded = { served: [], streamed: [], chunkMemory: [], handedOver: [], timedOut: [] };
  const host: LeanHost = {
    drain: { closing: false },
    headerTimeoutMs,
    serve(head: LeanHead, body, _socket, res) {
      if (!Buffer.isBuffer(body)) {
        log.streamed.push({ url: head.url, body, res });
        if (head.url === '/early' || head.url === '/early-close') answer(res, 'early', head.url === '/early-close');
        else if (head.url === '/read') {
          const chunks: Buffer[] = [];
          body.on('data', (c: Buffer) => {
            if (c.length >= 4096) log.chunkMemory.push(c.buffer);
            chunks.push(Buffer.from(c));
            body.recycle(c);
          });
          body.on('end', () => { const all = Buffer.concat(chunks); answer(res, `${all.length} ${sha256(all)}`); });
        }
        return true;
      }
      log.served.push({ method: head.method, url: head.url, body: body.toString('latin1') });
      answer(res, `${head.method} ${body.length}`);
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

  it('hands a chunked body to node:http with every byte, after serving the requests before it', async () => {
    s = await leanServer();
    const chunked = 'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n';
    await talk(s.port, [`GET / HTTP/1.1\r\nHost: x\r\n\r\n${chunked}`]);
    expect(s.log.served.map((r) => r.url)).to.deep.equal(['/']);
    expect(s.log.handedOver).to.deep.equal([chunked]);
  });

  it('answers 408 (through its host) to a body that does not arrive in full within client_header_timeout', async () => {
    s = await leanServer(300);
    await talk(s.port, ['POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it'], 1000);
    expect(s.log.served).to.deep.equal([]);
    expect(s.log.timedOut).to.deep.equal([true]);
  });

  describe('a body larger than it reads whole', () => {
    const post = (url: string, length: number): Buffer => Buffer.from(`POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n`);
    const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + (i >> 11)) & 0xff));
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    it('streams it in order, the bytes that came with the head first, then serves the request behind it', async () => {
      s = await leanServer();
      const body = pattern(3 * 1024 * 1024 + 5);
      const after = Buffer.from('GET /after HTTP/1.1\r\nHost: x\r\n\r\n');
      const out = await exchangeRaw(s.port, [Buffer.concat([post('/read', body.length), body.subarray(0, 1000)]), Buffer.concat([body.subarray(1000), after])], { gapMs: 30, waitMs: 1500 });
      expect(MAX_LEAN_BODY).to.be.lessThan(body.length);
      expect(s.log.streamed.map((r) => r.url)).to.deep.equal(['/read']);
      expect(out).to.include(`\r\n\r\n${body.length} ${sha256(body)}HTTP/1.1 200 OK`);
      expect(s.log.served.map((r) => r.url)).to.deep.equal(['/after']);
      expect(out).to.match(/GET 0$/);
    });

    it('copies the reads into a few buffers that come back when the reader gives its chunks back', async () => {
      s = await leanServer();
      const body = pattern(8 * 1024 * 1024);
      const out = await exchangeRaw(s.port, [post('/read', body.length), body], { waitMs: 1500 });
      expect(out).to.include(`${body.length} ${sha256(body)}`);
      // A fresh buffer per read would give one memory per chunk.
      expect(s.log.chunkMemory.length).to.be.greaterThan(50);
      expect(new Set(s.log.chunkMemory).size).to.be.at.most(4);
    });

    it('stops reading while the reader is behind, and reads the rest once it catches up', async () => {
      s = await leanServer();
      const total = 16 * 1024 * 1024;
      const client = net.connect(s.port, '127.0.0.1');
      let reply = '';
      client.on('data', (d) => { reply += d.toString('latin1'); });
      client.write(post('/later', total));
      client.write(Buffer.alloc(total, 'b'));
      await sleep(500);
      const { body, res } = s.log.streamed[0]!;
      // Nothing reads the body: the connection holds one window of it and the client's writes back up.
      expect(body.readableLength).to.be.at.most(128 * 1024);
      expect(client.writableLength).to.be.greaterThan(0);
      let got = 0;
      body.on('data', (c: Buffer) => { got += c.length; });
      body.on('end', () => answer(res, String(got)));
      const deadline = Date.now() + 10_000;
      while (!reply.endsWith(`\r\n\r\n${total}`) && Date.now() < deadline) await sleep(10);
      client.destroy();
      expect(reply).to.match(new RegExp(`\r\n\r\n${total}$`));
    });

    it('drops what the app left unread after answering early, then serves the next request on the connection', async () => {
      s = await leanServer();
      const body = Buffer.alloc(2 * 1024 * 1024, 'e');
      const next = Buffer.from('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
      const out = await exchangeRaw(s.port, [Buffer.concat([post('/early', body.length), body.subarray(0, 100_000)]), Buffer.concat([body.subarray(100_000), next])], { gapMs: 100, waitMs: 1000 });
      expect(out).to.match(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nearlyHTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nGET 0$/);
      expect(s.log.served.map((r) => r.url)).to.deep.equal(['/next']);
    });

    it('after an early answer that closes the connection, reads the rest of the body first, so the client gets the answer and no reset', async () => {
      s = await leanServer();
      const client = net.connect(s.port, '127.0.0.1');
      let reply = '';
      let reset = false;
      client.on('data', (d) => { reply += d.toString('latin1'); });
      client.on('error', () => { reset = true; });
      const ended = new Promise((r) => client.on('end', r));
      client.write(Buffer.concat([post('/early-close', 300_000), Buffer.alloc(100_000, 'a')]));
      await sleep(150);
      // Answered, and still open while the body comes.
      expect(reply).to.match(/Connection: close\r\n[\s\S]*\r\n\r\nearly$/);
      expect(client.readableEnded).to.equal(false);
      client.write(Buffer.alloc(100_000, 'b'));
      await sleep(150);
      expect(client.readableEnded).to.equal(false);
      client.write(Buffer.alloc(100_000, 'c'));
      await ended;
      client.destroy();
      expect(reset).to.equal(false);
    });

    it('closes a connection whose client does not send the rest within 5 s of the answer', async function () {
      this.timeout(15_000);
      s = await leanServer();
      const startedAt = Date.now();
      const out = await exchangeRaw(s.port, [Buffer.concat([post('/early', 1_000_000), Buffer.alloc(10, 'x')])], { waitMs: 10_000 });
      expect(out).to.match(/\r\n\r\nearly$/);
      expect(Date.now() - startedAt).to.be.within(4_500, 8_000);
    });

    it('tells the body\'s reader when the client goes away in the middle of it', async () => {
      s = await leanServer();
      const client = net.connect(s.port, '127.0.0.1');
      client.write(Buffer.concat([post('/later', 1_000_000), Buffer.alloc(100_000, 'x')]));
      await sleep(200);
      const { body } = s.log.streamed[0]!;
      // (A reader that keeps up: a paused connection, like node's, only learns of the end when reading resumes.)
      body.on('data', () => {});
      const closed = new Promise((r) => body.once('close', r));
      client.destroy();
      await closed;
      expect(body.readableEnded).to.equal(false);
      expect(body.destroyed).to.equal(true);
    });
  });
});
