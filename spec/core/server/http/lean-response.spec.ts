// The lean engine's response over a real loopback connection: onFlushed is
// the signal that lets the exchange recycle the read buffers a response was
// written from, so it must come only once the kernel took every byte, and
// never for a response whose connection broke off with bytes still queued.
import { expect } from 'chai';
import net from 'node:net';
import { LeanFrontResponse } from '../../../../core/server/http/lean-response.ts';

/** A server-side socket and the client connected to it (which reads nothing unless told). */
async function connectedPair(): Promise<{ server: net.Server; theirs: net.Socket; ours: net.Socket }> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const theirs = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  theirs.pause();
  theirs.on('error', () => {});
  const ours = await accepted;
  ours.on('error', () => {});
  return { server, theirs, ours };
}

function response(ours: net.Socket): LeanFrontResponse {
  return new LeanFrontResponse(ours, { responseEnded: () => {} }, { closing: false }, { head: false, http10: false, keepAlive: true });
}

describe('LeanFrontResponse.onFlushed', () => {
  it('calls back once a response the client reads is all handed to the kernel', async () => {
    const { server, theirs, ours } = await connectedPair();
    try {
      const res = response(ours);
      res.writeHead(200, 'OK', ['Content-Length', '5']);
      res.write(Buffer.from('hello'));
      res.end();
      const flushed = await new Promise<boolean>((r) => { res.onFlushed(() => r(true)); setTimeout(() => r(false), 1000); });
      expect(flushed).to.equal(true);
    } finally {
      theirs.destroy();
      server.close();
    }
  });

  it('never calls back when the connection breaks off with bytes still queued', async () => {
    const { server, theirs, ours } = await connectedPair();
    try {
      const res = response(ours);
      const body = Buffer.alloc(32 * 1024 * 1024, 'x');
      res.writeHead(200, 'OK', ['Content-Length', String(body.length)]);
      res.write(body);
      res.end();
      // The client reads nothing: far more than the socket buffers hold is still queued here.
      expect(res.holdsData()).to.equal(true);
      let called = false;
      res.onFlushed(() => { called = true; });
      ours.destroy();
      await new Promise((r) => setTimeout(r, 200));
      expect(called, 'reported flushed although the bytes never left').to.equal(false);
    } finally {
      theirs.destroy();
      server.close();
    }
  });
});
