// Bad input to the built-in HTTP engine gets a clear answer, and the core keeps serving.
import { expect } from 'chai';
import net from 'node:net';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('end', () => resolve(out));
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(out) : reject(e)));
    sock.write(bytes);
    setTimeout(() => sock.end(), 300).unref();
  });
}

describe('built-in HTTP engine: bad input', function () {
  let p: RunningPassenger | undefined;
  before(async () => { p = await startPassenger(fixtureApp('node-basic'), { args: ['--max-body-size', '1000'] }); });
  after(async () => { await stopAndClean(p); });

  it('answers 400 to a malformed request line and logs it', async () => {
    const out = await raw(p!.port, 'GARBAGE\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 400 Bad Request/);
    await p!.waitForOutput(/malformed HTTP request from a client/);
  });

  it('does not log a client that reset its connection mid-request as malformed, and keeps serving', async () => {
    const before = p!.output().length;
    await new Promise<void>((resolve) => {
      const sock = net.connect(p!.port, '127.0.0.1', () => {
        sock.write('GET / HTTP/1.1\r\nHost: x\r\nX-Half: ');
        setTimeout(() => { sock.resetAndDestroy(); resolve(); }, 50);
      });
    });
    const r = await fetch(`${p!.url}/`);
    expect(r.status).to.equal(200);
    expect(p!.output().slice(before)).to.not.match(/malformed HTTP request/);
  });

  // Statuses for the whole hostile-request corpus (431, smuggling, bad chunks...) are checked by hostile-requests.spec.ts; here, what the answers and the log say.
  it('names the header at fault in the answer and the log: two Host headers', async () => {
    const out = await raw(p!.port, 'GET / HTTP/1.1\r\nHost: a.test\r\nHost: evil.test\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/).and.match(/Connection: close/i);
    expect(out).to.include('400 Bad Request: PSG_ERR_HTTP_BAD_REQUEST: the request has more than one Host header');
    await p!.waitForOutput(/refused a request from 127\.0\.0\.1: the request has more than one Host header/);
  });

  it('answers 501 to a transfer coding other than chunked, naming it, in JSON when asked', async () => {
    const out = await raw(p!.port, 'POST / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 501 Not Implemented\r\n/);
    const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4)) as { code: string; error: string };
    expect(body.code).to.equal('PSG_ERR_HTTP_NOT_IMPLEMENTED');
    expect(body.error).to.include('Transfer-Encoding "gzip, chunked" is not implemented');
  });

  it('names the header where node\'s parser stopped, and the parser\'s reason', async () => {
    const out = await raw(p!.port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(out).to.include('400 Bad Request: malformed HTTP request: Invalid header value char (in header X-Bad)');
    await p!.waitForOutput(/malformed HTTP request from a client \(127\.0\.0\.1\): HPE_INVALID_HEADER_TOKEN 400 .*in header X-Bad/);
  });

  it('answers 431 naming the limit', async () => {
    const out = await raw(p!.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    expect(out).to.match(/^HTTP\/1\.1 431 /).and.match(/the request head is larger than \d+ bytes/);
  });

  it('answers 413 to a body over max_body_size, naming the limit', async () => {
    const r = await fetch(`${p!.url}/sha256`, { method: 'POST', body: Buffer.alloc(5000) });
    expect(r.status).to.equal(413);
    expect(await r.text()).to.match(/larger than max_body_size \(1000\)/);
  });

  it('answers 413 to a chunked body that grows over max_body_size, and accepts one within it', async () => {
    const out = await raw(p!.port, `POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${'400\r\n' + 'a'.repeat(1024) + '\r\n'}0\r\n\r\n`);
    expect(out).to.match(/^HTTP\/1\.1 413 /);
    const ok = await raw(p!.port, 'POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    expect(ok).to.match(/^HTTP\/1\.1 200 /);
    expect(ok).to.include('"bytes":5');
  });

  it('keeps serving after all of that', async () => {
    const r = await fetch(`${p!.url}/`);
    expect(r.status).to.equal(200);
  });
});
