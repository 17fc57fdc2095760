// The core's HTTP client for http_session apps (a real Node app behind the
// node loader): connections kept and reused, and what ends them; body framing;
// responses it must refuse.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { chunkedUpload, request, sha256 } from './app-helpers.ts';

interface Conn { conn: number; requests?: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw request on its own connection; resolves with everything the server sent until it closed. */
function rawExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(text));
    let out = '';
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
    sock.setTimeout(30000, () => sock.destroy(new Error('no answer within 30 s')));
  });
}

describe('http_session: the core as an HTTP client', function () {
  let p: RunningPassenger;
  before(async () => {
    p = await startPassenger(fixtureApp('node-http-edges'), { args: ['--max-instances', '1', '--min-instances', '1'] });
  });
  after(async () => { await stopAndClean(p); });
  const conn = async (path = '/conn') => (await request(`${p.url}${path}`)).json<Conn>().conn;

  it('carries consecutive requests over one kept-alive connection, uploads of known and unknown length included', async () => {
    const first = (await request(`${p.url}/conn`)).json<Conn>();
    const second = (await request(`${p.url}/conn`)).json<Conn>();
    expect(second.conn).to.equal(first.conn);
    expect(second.requests).to.equal(first.requests! + 1);
    const body = randomBytes(300 * 1024);
    const known = (await request(`${p.url}/echo`, { method: 'POST', body })).json<{ conn: number; sha256: string; contentLength: string }>();
    expect(known).to.include({ conn: first.conn, sha256: sha256(body), contentLength: String(body.length) });
    const up = chunkedUpload(500 * 1024);
    const chunked = (await request(`${p.url}/echo`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: up.pieces })).json<{ conn: number; sha256: string; bytes: number; transferEncoding: string }>();
    expect(chunked).to.include({ conn: first.conn, sha256: up.sha256(), bytes: 500 * 1024, transferEncoding: 'chunked' });
    expect(await conn()).to.equal(first.conn);
  });

  it('keeps the connection after bodiless answers (HEAD, 204)', async () => {
    const before = await conn();
    const head = await request(`${p.url}/conn`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(head.body.length).to.equal(0);
    const noContent = await request(`${p.url}/no-content`);
    expect(noContent.status).to.equal(204);
    expect(noContent.headers['x-conn']).to.equal(String(before));
    expect(await conn()).to.equal(before);
  });

  it('opens a new connection after the app answered with Connection: close', async () => {
    const closing = (await request(`${p.url}/close`)).json<Conn>().conn;
    expect(await conn()).to.not.equal(closing);
  });

  it('serves on a fresh connection after the app closed an idle one without notice', async () => {
    const dropped = (await request(`${p.url}/conn?dropAfter=20`)).json<Conn>().conn;
    await sleep(300);
    const r = await request(`${p.url}/conn`);
    expect(r.status).to.equal(200);
    expect(r.json<Conn>().conn).to.not.equal(dropped);
  });

  it('passes an answer given before the body was read, and reuses the connection when little of the body was left', async () => {
    const small = await request(`${p.url}/early`, { method: 'POST', body: randomBytes(100 * 1024) });
    expect(small.status).to.equal(413);
    expect(await conn()).to.equal(small.json<Conn>().conn);
    const large = await request(`${p.url}/early`, { method: 'POST', body: randomBytes(4 * 1024 * 1024) });
    expect(large.status).to.equal(413);
    expect((await request(`${p.url}/conn`)).status).to.equal(200);
  });

  it('passes the head on at once when the body comes later (long polls, server-sent events)', async () => {
    const started = Date.now();
    const { headAfter, bodyAfter, body } = await new Promise<{ headAfter: number; bodyAfter: number; body: string }>((resolve, reject) => {
      http.get(`${p.url}/late-body?ms=600`, (res) => {
        const headAfter = Date.now() - started;
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve({ headAfter, bodyAfter: Date.now() - started, body }));
      }).on('error', reject);
    });
    expect(body).to.equal('late');
    expect(bodyAfter).to.be.at.least(550);
    expect(headAfter, 'the head must not wait for the body').to.be.below(400);
  });

  it('relays a body that ends with the connection (HTTP/1.0 style), then serves on a new one', async () => {
    const r = await request(`${p.url}/until-close`);
    expect(r.status).to.equal(200);
    expect(r.text).to.equal('the body ends when the connection does');
    expect((await request(`${p.url}/conn`)).status).to.equal(200);
  });

  it('answers 502 for a malformed response head and logs what was wrong', async () => {
    const r = await request(`${p.url}/bad-header`);
    expect(r.status).to.equal(502);
    await p.waitForOutput(/invalid response from process \d+: invalid header line "This is not a header"/);
    expect((await request(`${p.url}/conn`)).status).to.equal(200);
  });

  it('cuts the client off when the body is shorter than its Content-Length, and logs it', async () => {
    let error: unknown;
    try { await request(`${p.url}/bad-length`); } catch (e) { error = e; }
    expect(error, 'the client must not see a complete response').to.be.instanceOf(Error);
    await p.waitForOutput(/response truncated: 5 of the announced Content-Length bytes missing/);
  });

  it('gives an HTTP/1.0 request without Host a Host header, and a bodiless POST Content-Length: 0', async () => {
    const raw = await rawExchange(p.port, 'GET /headers HTTP/1.0\r\n\r\n');
    const seen = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string>; httpVersion: string };
    expect(seen.headers.host).to.equal(`127.0.0.1:${p.port}`);
    expect(seen.httpVersion).to.equal('1.1');
    expect(seen.headers['x-forwarded-for']).to.equal('127.0.0.1');
    const post = (await request(`${p.url}/headers`, { method: 'POST' })).json<{ headers: Record<string, string> }>();
    expect(post.headers['content-length']).to.equal('0');
    expect(post.headers['transfer-encoding']).to.equal(undefined);
  });
});

describe('http_session: large responses to slow clients', function () {
  // Its own instance: the connections this leaves idle would change which one the specs above get.
  let q: RunningPassenger;
  before(async () => {
    q = await startPassenger(fixtureApp('node-http-edges'), { args: ['--max-instances', '1', '--min-instances', '1'] });
  });
  after(async () => { await stopAndClean(q); });

  it('keeps every byte of a response a slow client is still reading while other requests reuse the connections', async () => {
    // The core reads app responses into a buffer it reuses: what a slow client has not taken yet must survive the next reads.
    /** Where the body first differs from /pattern's bytes for `seed` (-1: nowhere). */
    const firstWrongByte = (body: Buffer, seed: number) => { for (let i = 0; i < body.length; i++) if (body[i] !== (i + seed * 7) % 251) return i; return -1; };
    const slowSize = 24 * 1024 * 1024; // more than the kernel buffers between the core and the client hold
    const slow = new Promise<{ body: Buffer; conn: string }>((resolve, reject) => {
      const sock = net.connect(q.port, '127.0.0.1', () => sock.write(`GET /pattern?seed=1&bytes=${slowSize} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
      const chunks: Buffer[] = [];
      // Reads a little, then nothing for a while, again and again: the core's writes to it stay queued.
      sock.on('data', (d: Buffer) => { chunks.push(d); sock.pause(); setTimeout(() => sock.resume(), 3); });
      sock.on('end', () => {
        const all = Buffer.concat(chunks);
        const split = all.indexOf('\r\n\r\n');
        resolve({ body: all.subarray(split + 4), conn: /x-conn: (\d+)/i.exec(all.subarray(0, split).toString('latin1'))?.[1] ?? '' });
      });
      sock.on('error', reject);
      sock.setTimeout(60000, () => sock.destroy(new Error('slow download did not end within 60 s')));
    });
    const fast: Promise<void>[] = [];
    for (let w = 0; w < 3; w++) {
      fast.push((async () => {
        for (let i = 0; i < 15; i++) {
          const seed = 2 + w * 100 + i;
          const size = 100 * 1024 + seed * 997;
          const r = await request(`${q.url}/pattern?seed=${seed}&bytes=${size}`);
          expect(r.body.length).to.equal(size);
          expect(firstWrongByte(r.body, seed), `fast response ${seed}`).to.equal(-1);
        }
      })());
    }
    await Promise.all(fast);
    const { body } = await slow;
    expect(body.length).to.equal(slowSize);
    expect(firstWrongByte(body, 1), 'the slow response arrived intact').to.equal(-1);
  });

  it('lets a client that is still uploading read an answer the app gave before reading the body (lingering close)', async () => {
    // Without reading the rest first, the core would close the connection with unread bytes, and the kernel reset it.
    for (let i = 0; i < 10; i++) {
      const r = await request(`${q.url}/early`, { method: 'POST', body: randomBytes(4 * 1024 * 1024) });
      expect(r.status).to.equal(413);
    }
  });
});
