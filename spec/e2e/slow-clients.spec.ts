// Slow and vanished clients never hold an app process (issue 15, items 1 and
// 2): request bodies are buffered before a process is taken, responses are
// buffered as fast as the app writes them, a stalled body or head gets 408,
// a client that leaves frees its place at every stage, and chunked bodies
// reach apps that read CONTENT_LENGTH. Real Ruby, Python and Node processes.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { chunkedUpload, downloadPattern, expectStreaming, request, sha256 } from './app-helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A GET that must be answered within `ms` (a stuck queue fails it, rather than the spec's timeout). */
function getWithin(url: string, ms: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.setTimeout(ms, () => req.destroy(new Error(`GET ${url}: no answer within ${ms} ms`)));
    req.on('error', reject);
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends until it closes the connection, within `ms`. */
function readToClose(s: net.Socket, ms: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`the server did not answer and close within ${ms} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 200))}`)); }, ms);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => { clearTimeout(timer); resolve(Buffer.concat(chunks)); });
    s.on('error', () => {});
    s.resume();
  });
}

/** The response head, as soon as it is complete (within `ms`). */
function readHead(s: net.Socket, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`no response head within ${ms} ms; got ${JSON.stringify(got.slice(0, 200))}`)); }, ms);
    s.setEncoding('latin1');
    s.on('data', (c: string) => {
      got += c;
      const end = got.indexOf('\r\n\r\n');
      if (end >= 0) { clearTimeout(timer); s.destroy(); resolve(got.slice(0, end)); }
    });
    s.on('error', () => {});
  });
}

/** The instance's buffer directory's entries (none when it was never created). */
function buffered(p: RunningPassenger): string[] {
  const dir = join(p.registryDir, p.instanceDirs()[0]!, 'buffers');
  try { return readdirSync(dir); } catch { return []; }
}

async function waitFor(what: string, check: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Connections that send a head and part of a body, then close their sending side (as curl does when stopped mid-upload). */
async function partialUploadsThenLeave(port: number, count: number): Promise<void> {
  const socks = await Promise.all(Array.from({ length: count }, () => connect(port)));
  for (const s of socks) {
    s.on('error', () => {});
    s.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${'x'.repeat(1000)}`);
  }
  await sleep(500);
  for (const s of socks) s.end();
  await sleep(200);
  for (const s of socks) s.destroy();
}

function httpHead(bytes: Buffer): string {
  return bytes.toString('latin1', 0, Math.max(0, bytes.indexOf('\r\n\r\n')));
}

describe('slow and vanished clients: a Rack app whose processes serve one request at a time', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  before(async () => {
    p = await startPassenger(fixtureApp('rack-buffering'), {
      args: ['--max-pool-size', '2', '--min-instances', '2', '--client-body-timeout', '2', '--client-header-timeout', '2'],
    });
    // Both processes up, so that every spec below starts from the same pool.
    await waitFor('two processes', () => (p!.output().match(/process \d+ ready/g) ?? []).length >= 2, 20000);
  });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('serves a fresh request at once after 4 clients sent part of a body and left (pool of 2)', async () => {
    await partialUploadsThenLeave(p!.port, 4);
    const r = await getWithin(`${p!.url}/pid`, 5000);
    expect(r.status).to.equal(200);
    await waitFor('the buffers of the abandoned uploads to be removed', () => buffered(p!).length === 0);
  });

  it('keeps serving while 8 connections trickle a 1 MB body one byte at a time', async () => {
    const socks = await Promise.all(Array.from({ length: 8 }, () => connect(p!.port)));
    for (const s of socks) {
      s.on('error', () => {});
      s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nx');
    }
    const trickle = setInterval(() => { for (const s of socks) s.write('x'); }, 200);
    try {
      // Bounded: three requests while the trickle goes on (about 3 s), each answered promptly.
      for (let i = 0; i < 3; i++) {
        const r = await getWithin(`${p!.url}/pid`, 5000);
        expect(r.status).to.equal(200);
        await sleep(500);
      }
    } finally {
      clearInterval(trickle);
      for (const s of socks) s.destroy();
    }
  });

  it('answers 408 to a body that stalls for client_body_timeout, and the process stays free', async () => {
    const s = await connect(p!.port);
    s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789');
    const head = await readHead(s, 8000);
    expect(head).to.match(/^HTTP\/1\.1 408 /);
    expect(head).to.match(/\r\nConnection: close\r\n/i);
    expect((await getWithin(`${p!.url}/pid`, 5000)).status).to.equal(200);
  });

  it('answers 408 to a head that is not complete within client_header_timeout', async () => {
    const s = await connect(p!.port);
    s.write('GET /pid HTTP/1.1\r\nHost: x\r\n');
    expect(await readHead(s, 8000)).to.match(/^HTTP\/1\.1 408 /);
  });

  it('buffers a body larger than memory in a file of the instance directory, removed after the request', async () => {
    const data = randomBytes(1024 * 1024);
    const s = await connect(p!.port);
    s.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`);
    s.write(data.subarray(0, 600 * 1024));
    await waitFor('a request buffer file', () => buffered(p!).some((f) => f.startsWith('request-')));
    s.write(data.subarray(600 * 1024));
    const reply = await readToClose(s, 15000);
    expect(httpHead(reply)).to.match(/^HTTP\/1\.1 200 /);
    const json = JSON.parse(reply.toString('utf8', reply.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    expect(json).to.deep.equal({ size: data.length, sha256: sha256(data), content_length: String(data.length), transfer_encoding: null });
    await waitFor('the request buffer file to be removed', () => buffered(p!).length === 0);
  });

  it('removes the buffer file of a client that leaves in the middle of a large upload', async () => {
    const s = await connect(p!.port);
    s.write(`POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n`);
    s.write(randomBytes(600 * 1024));
    await waitFor('a request buffer file', () => buffered(p!).some((f) => f.startsWith('request-')));
    s.destroy();
    await waitFor('the request buffer file to be removed', () => buffered(p!).length === 0);
  });

  it('gives a chunked body with its real CONTENT_LENGTH and no Transfer-Encoding', async () => {
    const up = chunkedUpload(300 * 1000);
    const r = await request(`${p!.url}/upload`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: up.pieces });
    expect(r.json()).to.deep.equal({ size: 300000, sha256: up.sha256(), content_length: '300000', transfer_encoding: null });
  });

  it('frees the process while slow readers download large responses: another request is served meanwhile', async () => {
    const mib = 24;
    // Two readers that do not read: each would hold one of the two processes until it had sent everything.
    const readers = await Promise.all([connect(p!.port), connect(p!.port)]);
    const received = readers.map((s) => {
      s.pause();
      s.write(`GET /big?mib=${mib} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      return new Promise<Buffer>((resolve) => s.on('close', () => resolve(Buffer.concat(chunks))));
    });
    try {
      await sleep(1000);
      const r = await getWithin(`${p!.url}/pid`, 5000);
      expect(r.status).to.equal(200);
      // What the readers did not take yet waits in files of the instance directory.
      await waitFor('response buffer files', () => buffered(p!).filter((f) => f.startsWith('response-')).length === 2);
    } finally {
      for (const s of readers) s.resume();
    }
    const expected = downloadPattern(mib);
    for (const reply of await Promise.all(received)) {
      const body = reply.subarray(reply.indexOf('\r\n\r\n') + 4);
      expect(httpHead(reply)).to.match(/^HTTP\/1\.1 200 /);
      expect({ size: body.length, sha256: createHash('sha256').update(body).digest('hex') }).to.deep.equal(expected);
    }
    await waitFor('the response buffer files to be removed', () => buffered(p!).length === 0);
  });

  it('still streams server-sent events and chunked responses at once', async () => {
    await expectStreaming(`${p!.url}/events`, 'data: first\n\n', 'data: second\n\n');
    await expectStreaming(`${p!.url}/chunks`, 'before the gate\n', 'after the gate\n');
  });
});

describe('vanished clients with buffer_request_body off: the queue and the processes are freed', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  before(async () => {
    p = await startPassenger(fixtureApp('rack-buffering'), { args: ['--max-pool-size', '2', '--min-instances', '2', '--buffer-request-body', 'off'] });
    await waitFor('two processes', () => (p!.output().match(/process \d+ ready/g) ?? []).length >= 2, 20000);
  });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('serves a fresh request at once after 4 clients sent part of a body and left (2 sending, 2 queued)', async () => {
    await partialUploadsThenLeave(p!.port, 4);
    const r = await getWithin(`${p!.url}/pid`, 5000);
    expect(r.status).to.equal(200);
  });
});

describe('a chunked POST to a Django view (WSGI)', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  before(async () => { p = await startPassenger(fixtureApp('wsgi-django-full')); });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('arrives whole, with CONTENT_LENGTH', async () => {
    const up = chunkedUpload(300 * 1000);
    const r = await request(`${p!.url}/sha256`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/octet-stream' }, body: up.pieces });
    expect(r.json()).to.deep.equal({ size: 300000, sha256: up.sha256(), content_length: '300000' });
  });
});

describe('a Node app (unlimited concurrency): bodies still stream, vanished clients end the app-side request', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  after(async () => { await stopAndClean(p); p = undefined; removeApps(); });

  it('hands the app the first part of a body before the rest was sent, and tells it when the client leaves', async () => {
    const app = makeApp({
      'app.js': `
        const http = require('http');
        let aborted = 0;
        http.createServer((req, res) => {
          if (req.url === '/aborted') { res.end(String(aborted)); return; }
          let got = 0;
          req.on('data', (d) => {
            if (got === 0) { res.writeHead(200, { 'content-type': 'text/plain' }); res.write('first part arrived\\n'); }
            got += d.length;
          });
          req.on('end', () => res.end('bytes ' + got));
          req.on('aborted', () => { aborted++; });
        }).listen(process.env.PORT || 3000);
      `,
    });
    p = await startPassenger(app);
    // Until an app's first process said how many requests it serves at once, its bodies are buffered (the safe side).
    expect((await getWithin(`${p.url}/aborted`, 20000)).text).to.equal('0');
    const s = await connect(p.port);
    s.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n' + 'x'.repeat(1000));
    const first = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the app saw nothing of a body that was not complete')), 5000);
      s.once('data', (c: Buffer) => { clearTimeout(timer); resolve(c.toString('latin1')); });
    });
    expect(first).to.match(/^HTTP\/1\.1 200 /);
    expect(first).to.include('first part arrived');
    s.destroy();
    const deadline = Date.now() + 5000;
    let aborted = '0';
    while (aborted === '0' && Date.now() < deadline) {
      aborted = (await getWithin(`${p.url}/aborted`, 5000)).text;
      if (aborted === '0') await sleep(100);
    }
    expect(aborted).to.equal('1');
  });
});
