// holdsData() tells the exchange whether a chunk it wrote (a view of the app
// connection's read buffer) is still queued in the core. node corks the
// client's connection after each write until the end of the tick; a chunk the
// kernel is about to take must not count as held, or every response moves its
// app connection's reads to a fresh buffer. A client that does not read must
// still be seen as holding data. Real node server and client sockets.
import { expect } from 'chai';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { NodeFrontResponse } from '../../../../core/server/http/node-front-response.ts';
import { adaptHttp2 } from '../../../../core/server/tls/h2-request.ts';

type Handler = (out: NodeFrontResponse) => void;

async function withServer(handle: Handler, run: (port: number) => Promise<void>): Promise<void> {
  const server = http.createServer((req, res) => handle(new NodeFrontResponse(req, res, false, { closing: false })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await run((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

describe('NodeFrontResponse.holdsData', () => {
  it('is false right after a small write the client connection took, and the client gets head and body', async () => {
    let heldAfterWrite: boolean | undefined;
    await withServer((out) => {
      out.writeHead(200, 'OK', ['Content-Type', 'text/plain', 'Content-Length', '12']);
      expect(out.write(Buffer.from('hello world\n'))).to.equal(true);
      heldAfterWrite = out.holdsData();
      out.end();
    }, async (port) => {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('hello world\n');
    });
    expect(heldAfterWrite).to.equal(false);
  });

  it('is true while a client that does not read leaves a large write queued', async () => {
    let held: boolean | undefined;
    const big = Buffer.alloc(32 * 1024 * 1024, 'x');
    await withServer((out) => {
      out.writeHead(200, 'OK', ['Content-Length', String(big.length)]);
      out.write(big);
      held = out.holdsData();
      out.abort();
    }, async (port) => {
      // A raw client that sends a request and never reads: the kernel's buffers fill, the rest stays queued.
      const client = net.connect(port, '127.0.0.1');
      client.pause();
      client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      const until = Date.now() + 10_000;
      while (held === undefined && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      client.destroy();
    });
    expect(held).to.equal(true);
  });
});

describe('NodeFrontResponse over HTTP/2: a client that went away', () => {
  /** A stream to an h2c server whose handler wraps the response; `act` ends it one way or another, then what the wrapper said. */
  async function afterStream(respond: (out: NodeFrontResponse) => void, act: (stream: http2.ClientHttp2Stream, session: http2.ClientHttp2Session) => void): Promise<{ goneAtStart: boolean; goneAtClose: boolean; onCloseCalled: boolean }> {
    const server = http2.createServer();
    const seen = { goneAtStart: true, goneAtClose: false, onCloseCalled: false };
    let closed!: () => void;
    const responseClosed = new Promise<void>((r) => { closed = r; });
    server.on('request', (h2req, h2res) => {
      // As the TLS front passes HTTP/2 requests on (tls/h2-request.ts).
      const { req, res } = adaptHttp2(h2req, h2res);
      const out = new NodeFrontResponse(req, res, true, { closing: false });
      seen.goneAtStart = out.clientGone;
      out.onClose(() => { seen.onCloseCalled = true; });
      res.once('close', () => setImmediate(() => { seen.goneAtClose = out.clientGone; closed(); }));
      respond(out);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    session.on('error', () => {});
    try {
      const stream = session.request({ ':path': '/' });
      stream.on('error', () => {});
      stream.resume();
      await new Promise((r) => setTimeout(r, 100));
      act(stream, session);
      await responseClosed;
      return seen;
    } finally {
      session.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  it('is seen when the client cancels its stream (a reset stream counts as finished in node)', async () => {
    const seen = await afterStream(() => {}, (stream) => stream.close(http2.constants.NGHTTP2_CANCEL));
    expect(seen).to.deep.equal({ goneAtStart: false, goneAtClose: true, onCloseCalled: true });
  });

  it('is seen when the client connection is lost in the middle of a large response', async () => {
    const seen = await afterStream((out) => {
      out.writeHead(200, 'OK', ['Content-Length', String(8 << 20)]);
      out.write(Buffer.alloc(1 << 20));
    }, (stream, session) => { stream.pause(); session.destroy(); });
    expect(seen).to.deep.equal({ goneAtStart: false, goneAtClose: true, onCloseCalled: true });
  });

  it('is not seen for a response that ended normally', async () => {
    const seen = await afterStream((out) => {
      out.writeHead(200, 'OK', ['Content-Length', '2']);
      out.write(Buffer.from('ok'));
      out.end();
    }, () => {});
    expect(seen).to.deep.equal({ goneAtStart: false, goneAtClose: false, onCloseCalled: false });
  });
});
