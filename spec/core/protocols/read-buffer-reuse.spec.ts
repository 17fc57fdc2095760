// The read buffers of app connections are reused (protocols/read-buffer-pool.ts):
// large responses through the exchange allocate next to none, for fast and
// for slow clients, and every byte still arrives as the app sent it. Real
// sockets throughout: an app server on a Unix socket, the exchange behind a
// node:http front, node's HTTP client reading fast or with pauses.
import { expect } from 'chai';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../core/log/logger.ts';
import { httpSessionProtocol } from '../../../core/protocols/http-session.ts';
import { dropFreeReadBuffers, freeReadBufferCount } from '../../../core/protocols/read-buffer-pool.ts';
import type { ForwardTarget } from '../../../core/registries/protocols.ts';
import type { FrontRequest } from '../../../core/server/front.ts';
import { NodeFrontResponse } from '../../../core/server/http/node-front-response.ts';

const MIB = 1024 * 1024;
/** A pattern whose period (251) is prime to every buffer size, so a byte overwritten by a later read shows. */
const body = Buffer.alloc(MIB, 0).map((_, p) => (7 * p + 3) % 251);

function frontRequest(req: http.IncomingMessage): FrontRequest {
  return {
    method: req.method ?? 'GET', url: req.url ?? '/', httpVersion: req.httpVersion, rawHeaders: req.rawHeaders,
    remoteAddress: '127.0.0.1', remotePort: 1, serverName: 'localhost', serverPort: 80, https: false, trustedProxy: false,
    body: null, contentLength: undefined,
  };
}

/** Reads a response whole: at once, or pausing `pauseMs` after every `every` bytes (a slow client). */
function download(url: string, agent: http.Agent, pause?: { every: number; pauseMs: number }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      let sincePause = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        sincePause += c.length;
        if (pause && sincePause >= pause.every) {
          sincePause = 0;
          res.pause();
          setTimeout(() => res.resume(), pause.pauseMs);
        }
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('read buffers of app connections are reused', function () {
  this.timeout(60_000);
  let dir: string;
  let app: http.Server;
  let front: http.Server;
  let url: string;
  let agent: http.Agent;
  let target: ForwardTarget;
  /** Calls of Buffer.allocUnsafeSlow for the read buffer sizes (16 and 64 KiB) while counting. */
  let allocations = 0;
  const original = Buffer.allocUnsafeSlow;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'psg-rbuf-'));
    const socketPath = join(dir, 'app.sock');
    app = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) });
      res.end(body);
    });
    await new Promise<void>((r) => app.listen(socketPath, r));
    target = {
      socket: { name: 'main', address: `unix:${socketPath}`, protocol: 'http_session', concurrency: 0 },
      connectPassword: '', pid: process.pid, baseUri: '/', appRoot: dir, startupFile: join(dir, 'app.js'), log: createLogger('error'),
    };
    front = http.createServer((req, res) => {
      void httpSessionProtocol.forward(target, frontRequest(req), new NodeFrontResponse(req, res, false, { closing: false }));
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(front.address() as AddressInfo).port}/mib`;
    agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    Buffer.allocUnsafeSlow = ((size: number) => {
      if (size === 16 * 1024 || size === 64 * 1024) allocations++;
      return original(size);
    }) as typeof Buffer.allocUnsafeSlow;
  });

  after(async () => {
    Buffer.allocUnsafeSlow = original;
    agent.destroy();
    httpSessionProtocol.release?.(target);
    front.closeAllConnections();
    app.closeAllConnections();
    await new Promise((r) => front.close(r));
    await new Promise((r) => app.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('allocates none for consecutive 1 MiB responses to a fast client, once the first one is done', async () => {
    expect((await download(url, agent)).equals(body)).to.equal(true);
    allocations = 0;
    for (let i = 0; i < 20; i++) expect((await download(url, agent)).equals(body), `response ${i}`).to.equal(true);
    // Each response grows its connection's buffer from 16 to 64 KiB and shrinks it back: two allocations each without reuse.
    expect(allocations).to.be.at.most(2);
  });

  it('reuses the buffers a slow client held once its response flushed, and every byte arrives intact', async () => {
    await download(url, agent, { every: 128 * 1024, pauseMs: 15 });
    allocations = 0;
    const results = await Promise.all(Array.from({ length: 4 }, async () => {
      const got: boolean[] = [];
      for (let i = 0; i < 3; i++) got.push((await download(url, agent, { every: 128 * 1024, pauseMs: 15 })).equals(body));
      return got;
    }));
    expect(results.flat()).to.deep.equal(Array(12).fill(true));
    // Without reuse, each stall of a client (about 8 per response here) moved reads to a new buffer.
    expect(allocations).to.be.below(12);
    expect(freeReadBufferCount()).to.be.above(0);
  });

  it('gives the free buffers up when asked (the core went idle)', () => {
    dropFreeReadBuffers();
    expect(freeReadBufferCount()).to.equal(0);
  });
});
