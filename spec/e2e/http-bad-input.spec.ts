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

  it('answers 431 to oversized headers', async () => {
    const out = await raw(p!.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`);
    expect(out).to.match(/^HTTP\/1\.1 431 /);
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

  it('answers 400 to a bad chunked encoding', async () => {
    const out = await raw(p!.port, 'POST /sha256 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nabc\r\n0\r\n\r\n');
    expect(out).to.match(/^HTTP\/1\.1 400 Bad Request/);
  });

  it('keeps serving after all of that', async () => {
    const r = await fetch(`${p!.url}/`);
    expect(r.status).to.equal(200);
  });
});
