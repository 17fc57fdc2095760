// The lean HTTP/1.1 engine (lean_http_engine, on by default) in front of a
// real Node app: requests without a body or with one of a Content-Length
// are answered with node's framing and headers, kept alive and pipelined in
// order; the first request of any other kind (a chunked body, an upgrade, a
// malformed head) hands the connection to node:http, which parses it from
// the first unread byte; and the option off gives node:http every
// connection, as before.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { exchangeRaw } from '../support/http-get.ts';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

/** Sends `bytes` on one connection (pieces 20 ms apart: heads split across reads) and collects everything until the server closes it (or `waitMs` passes). */
function exchange(port: number, bytes: string | Buffer[], waitMs = 1500): Promise<string> {
  return exchangeRaw(port, typeof bytes === 'string' ? [bytes] : bytes, { waitMs });
}

/** The responses in `out`, in order (status line, headers, body), for Content-Length and chunked bodies; `heads`: indexes of answers to HEAD (no body). */
function responses(out: string, heads: number[] = []): { status: number; headers: Map<string, string>; body: string }[] {
  const found: { status: number; headers: Map<string, string>; body: string }[] = [];
  let rest = out;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(lines[0]!.split(' ')[1]);
    const headers = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
    rest = rest.slice(end + 4);
    let body = '';
    if (heads.includes(found.length)) {
      // No body, whatever the headers say.
    } else if (headers.has('content-length')) {
      const n = Number(headers.get('content-length'));
      body = rest.slice(0, n);
      rest = rest.slice(n);
    } else if (headers.get('transfer-encoding') === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n');
        const size = parseInt(rest.slice(0, lineEnd), 16);
        rest = rest.slice(lineEnd + 2);
        if (size === 0) { rest = rest.slice(2); break; }
        body += rest.slice(0, size);
        rest = rest.slice(size + 2);
      }
    } else if (status !== 204 && status !== 304) {
      body = rest;
      rest = '';
    }
    found.push({ status, headers, body });
  }
  return found;
}

describe('the lean HTTP engine (lean_http_engine)', function () {
  let p: RunningPassenger | undefined;
  before(async () => { p = await startPassenger(fixtureApp('node-basic')); });
  after(async () => { await stopAndClean(p); });

  it('answers GET with the headers node:http would add: Date, keep-alive, the app\'s own', async () => {
    const [r] = responses(await exchange(p!.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(r!.status).to.equal(200);
    expect(r!.headers.get('date')).to.match(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    expect(r!.headers.get('connection')).to.equal('close');
    expect(r!.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
    const [kept] = responses(await exchange(p!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 300));
    expect(kept!.headers.get('connection')).to.equal('keep-alive');
    expect(kept!.headers.get('keep-alive')).to.equal('timeout=5');
  });

  it('serves pipelined requests in order on one connection, then closes after Connection: close', async () => {
    const out = await exchange(p!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /headers HTTP/1.1\r\nHost: x\r\nX-Order: third\r\nConnection: close\r\n\r\n');
    const rs = responses(out, [1]);
    expect(rs.map((r) => r.status)).to.deep.equal([200, 200, 200]);
    // No body bytes after the HEAD answer: the third response parses right behind it.
    expect(rs[1]!.headers.has('transfer-encoding'), 'HEAD answered without chunks').to.equal(false);
    expect(rs[2]!.body).to.include('third');
  });

  it('relays a streamed response without a length in chunks', async () => {
    const [r] = responses(await exchange(p!.port, 'GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(r!.headers.get('transfer-encoding')).to.equal('chunked');
    expect(r!.body).to.equal('part 0\npart 1\npart 2\npart 3\npart 4\n');
  });

  it('reads a head that arrives in pieces', async () => {
    const pieces = ['GE', 'T / HT', 'TP/1.1\r\nHo', 'st: x\r\nConnection: close\r', '\n\r\n'].map((s) => Buffer.from(s));
    expect(responses(await exchange(p!.port, pieces)).map((r) => r.status)).to.deep.equal([200]);
  });

  it('passes small bodies on itself, and hands the connection to node:http at a chunked one, which gets it whole', async () => {
    const hello = { bytes: 5, sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' };
    const out = await exchange(p!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
      + 'PUT /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello'
      + 'POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const rs = responses(out);
    expect(rs.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
    for (const i of [1, 2, 3]) expect(JSON.parse(rs[i]!.body)).to.deep.equal(hello);
  });

  it('streams a large body to the app in order, and serves the request pipelined behind it', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const head = Buffer.from(`POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    const after = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const out = await exchangeRaw(p!.port, [Buffer.concat([head, body.subarray(0, 10_000)]), body.subarray(10_000, 2_000_000), Buffer.concat([body.subarray(2_000_000), after])], { gapMs: 50, waitMs: 5000 });
    const rs = responses(out);
    expect(rs.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(JSON.parse(rs[0]!.body)).to.deep.equal({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('passes on a small body that arrives in pieces after its head', async () => {
    const pieces = ['POST /sha256 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n', 'he', 'llo'].map((t) => Buffer.from(t));
    const [r] = responses(await exchange(p!.port, pieces));
    expect(JSON.parse(r!.body)).to.deep.equal({ bytes: 5, sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' });
  });

  it('hands a malformed request to node:http, whose refusal names the fault, after serving the ones before', async () => {
    const out = await exchange(p!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    const rs = responses(out);
    expect(rs.map((r) => r.status)).to.deep.equal([200, 400]);
    expect(rs[1]!.body).to.include('more than one Host header');
  });

  it('answers HTTP/1.0 without keep-alive and closes the connection', async () => {
    const out = await exchange(p!.port, 'GET / HTTP/1.0\r\n\r\n');
    const rs = responses(out);
    expect(rs).to.have.length(1);
    expect(rs[0]!.headers.get('connection')).to.equal('close');
  });

  it('answers 408 to a head that does not complete within client_header_timeout', async () => {
    const q = await startPassenger(fixtureApp('node-basic'), { args: ['--client-header-timeout', '1'] });
    try {
      const out = await exchange(q.port, 'GET / HTTP/1.1\r\nHost: x\r\n', 4000);
      expect(out).to.match(/^HTTP\/1\.1 408 Request Timeout/);
      await q.waitForOutput(/no complete request head within client_header_timeout \(1 s\); 408/);
    } finally {
      await stopAndClean(q);
    }
  });

  it('closes its idle kept-alive connections at once when the server stops, instead of at their 5 s timeout', async () => {
    const q = await startPassenger(fixtureApp('node-basic'));
    try {
      const sock = net.connect(q.port, '127.0.0.1');
      const closed = new Promise<number>((resolve) => sock.on('close', () => resolve(Date.now())));
      sock.on('error', () => {});
      await new Promise<void>((resolve) => {
        sock.once('data', () => resolve());
        sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      const stopping = Date.now();
      expect(await q.stop()).to.equal(0);
      expect(await closed - stopping, 'the idle connection closed with the stop').to.be.below(3000);
      expect(Date.now() - stopping, 'the stop waited for no idle connection').to.be.below(3000);
    } finally {
      await stopAndClean(q);
    }
  });

  it('closes an idle kept-alive connection after 5 s, as node:http does', async function () {
    this.timeout(15_000);
    const started = Date.now();
    const out = await exchange(p!.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 9000);
    expect(responses(out)).to.have.length(1);
    const lasted = Date.now() - started;
    expect(lasted).to.be.within(4500, 8000);
  });
});
