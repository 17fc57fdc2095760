// Large downloads arrive byte-exact through every client side: the built-in
// HTTP/1.1 engine (plain and over TLS), HTTP/2 over TLS, and the SCGI front
// behind a real nginx; from a Rack app (session protocol, concurrency 1, so
// its responses go through the response buffer for slow readers) and a Node
// app (http_session; uneven and small writes, with Content-Length and
// chunked, spooled or not); read fast, after a pause, in a trickle, and with
// stops.
//
// Why: the core reads app responses into a per-connection read buffer that it
// reuses from read to read, and hands the client side views of it. A client
// side that still holds such a view when the next read comes would send bytes
// of a later read in its place (core/protocols/exchange.ts must release the
// buffer then, as res.holdsData() tells). The apps serve a NON-periodic
// pattern for that: byte p is (7p + 3) mod 251, a prime period that no read
// size shares, so bytes overwritten by a later read (which starts at another
// offset) change the hash, where a constant or power-of-two pattern would
// hide them. Each case compares {size, sha256} with downloadPattern() and, on
// a mismatch, says where the first wrong byte is and by how much it is
// shifted. Each describe starts its own server (and nginx) and stops it after.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { basename } from 'node:path';
import tls from 'node:tls';
import getPort from 'get-port';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { startNginx, type RunningNginx } from '../support/nginx.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { downloadPattern } from './app-helpers.ts';

/** Large enough that a paused client's socket buffers overflow and the core queues (or spools) most of it. */
const MIB = 16;
/** Every download must be complete within this long (a stuck one fails its case instead of the file). */
const DOWNLOAD_MS = 20000;
/** How long a "paused" reader leaves the response unread, as slow-clients.spec.ts does. */
const PAUSE_MS = 1000;

/**
 * fast: reads as it comes. paused: reads nothing for PAUSE_MS after the
 * request, then everything. trickle: waits 1 ms after every 32 KiB it read,
 * so the core keeps stalling and draining while the app still writes.
 * stop-and-go: stops for 30 ms after every 512 KiB it read, time enough for
 * the socket buffers to fill up again: the core's writes are held at every
 * stop, and small reads of the app meet a full socket. stalling: stops for
 * 150 ms at the start and after every 512 KiB, and reads fast in between: a
 * response buffer engages, catches up with a slow app, and is slow again at
 * the next stall (over HTTP/2, whose 64 KiB window fills at once).
 */
type Reader = 'fast' | 'paused' | 'trickle' | 'stop-and-go' | 'stalling';
const READERS: Reader[] = ['fast', 'paused', 'trickle'];

/**
 * The Node app: the same pattern, written in uneven pieces (a 1-byte one
 * too), with Content-Length or (?chunked=1) without. ?small=1 keeps the
 * pieces under 10 KiB, below the client side's 16 KiB high-water mark: their
 * writes return true even when the client side still holds them, the case
 * that only holdsData() catches. ?pace=immediate yields to the event loop
 * after every piece and ?pace=timer waits 1 ms, so that the core reads them
 * one by one instead of in full 64 KiB reads.
 */
const NODE_APP = `
const http = require('http');
// Byte p of a download is (7p + 3) mod 251, as in spec/e2e/app-helpers.ts.
const SIZES = [10007, 65521, 1, 4099, 30011];
const SMALL = [4099, 1, 10007, 2039];
const PHASE = Buffer.alloc(65521 + 251);
for (let j = 0; j < PHASE.length; j++) PHASE[j] = (j * 7 + 3) % 251;
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname !== '/pattern') { res.writeHead(404); res.end(); return; }
  const size = Number(url.searchParams.get('mib') || 1) * 1048576;
  const pace = url.searchParams.get('pace');
  const sizes = url.searchParams.get('small') === '1' ? SMALL : SIZES;
  const headers = { 'Content-Type': 'application/octet-stream' };
  if (url.searchParams.get('chunked') !== '1') headers['Content-Length'] = String(size);
  res.writeHead(200, headers);
  let sent = 0;
  let i = 0;
  const pump = () => {
    while (sent < size) {
      const n = Math.min(sizes[i++ % sizes.length], size - sent);
      // PHASE never changes: the app itself cannot be the one that corrupts a view it wrote.
      const ok = res.write(PHASE.subarray(sent % 251, sent % 251 + n));
      sent += n;
      if (!ok) { res.once('drain', pump); return; }
      if (pace === 'immediate') { setImmediate(pump); return; }
      if (pace === 'timer') { setTimeout(pump, 1); return; }
    }
    res.end();
  };
  pump();
}).listen(process.env.PORT || 3000);
`;

function nodeApp(): string {
  const dir = makeApp({ 'package.json': '{"name":"download-integrity","main":"app.js"}', 'app.js': NODE_APP });
  // Behind nginx the app runs as nobody (its files are root's): it must be able to read them.
  chmodSync(dir, 0o755);
  return dir;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const expectedCache = new Map<number, { size: number; sha256: string }>();
function expected(mib: number): { size: number; sha256: string } {
  let e = expectedCache.get(mib);
  if (!e) { e = downloadPattern(mib); expectedCache.set(mib, e); }
  return e;
}

/**
 * Where a body departs from the pattern: the first wrong offset, how many
 * bytes are wrong, and the shift (mod 251) of the first wrong byte, that is
 * from which offset's phase it came (7 * 36 = 1 mod 251).
 */
function describeMismatch(body: Buffer): string {
  let first = -1;
  let wrong = 0;
  for (let p = 0; p < body.length; p++) {
    if (body[p] !== (p * 7 + 3) % 251) {
      wrong++;
      if (first < 0) first = p;
    }
  }
  if (first < 0) return `no byte differs from the pattern (${body.length} bytes)`;
  let run = 0;
  while (first + run < body.length && body[first + run] !== (((first + run) * 7) + 3) % 251) run++;
  const phase = (((body[first]! - 3) * 36) % 251 + 251) % 251;
  const shift = ((phase - (first % 251)) % 251 + 251) % 251;
  return `first wrong byte at offset ${first} (${first % 65536} into its 64 KiB), ${wrong} wrong bytes in all, ` +
    `first run ${run} bytes, its phase shifted by ${shift} mod 251`;
}

interface Got { status: number; head: string; body: Buffer }

function expectIntact(got: Got, mib: number): void {
  expect(got.status, got.head).to.equal(200);
  const actual = { size: got.body.length, sha256: sha256(got.body) };
  const want = expected(mib);
  // The byte-by-byte look only when the hash differs.
  expect(actual, actual.sha256 === want.sha256 ? undefined : describeMismatch(got.body)).to.deep.equal(want);
}

/** Reads a stream as `reader` says; `pause`/`resume` are the stream's. */
function applyReader(reader: Reader, s: { pause(): unknown; resume(): unknown; on(e: 'data', cb: (c: Buffer) => void): unknown }, chunks: Buffer[], alive: () => boolean): void {
  const [every, wait] = reader === 'trickle' ? [32 << 10, 1] : reader === 'stop-and-go' ? [512 << 10, 30] : reader === 'stalling' ? [512 << 10, 150] : [Infinity, 0];
  let since = 0;
  s.on('data', (c: Buffer) => {
    chunks.push(c);
    if ((since += c.length) < every) return;
    since = 0;
    s.pause();
    setTimeout(() => { if (alive()) s.resume(); }, wait);
  });
  if (reader === 'paused' || reader === 'stalling') {
    s.pause();
    setTimeout(() => { if (alive()) s.resume(); }, reader === 'paused' ? PAUSE_MS : wait);
  }
}

/** The body of an HTTP/1.1 response, de-chunked when it was chunked. */
function http1Body(head: string, rest: Buffer): Buffer {
  if (!/\r\ntransfer-encoding:\s*chunked\r\n/i.test(`${head}\r\n`)) return rest;
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = rest.indexOf('\r\n', pos);
    if (eol < 0) throw new Error(`chunked body cut short at ${pos}`);
    const size = parseInt(rest.toString('latin1', pos, eol).split(';')[0]!, 16);
    if (!Number.isInteger(size)) throw new Error(`bad chunk size line at ${pos}: ${JSON.stringify(rest.toString('latin1', pos, Math.min(eol, pos + 40)))}`);
    pos = eol + 2;
    if (size === 0) return Buffer.concat(parts);
    if (rest.toString('latin1', pos + size, pos + size + 2) !== '\r\n') throw new Error(`chunk at ${pos} not followed by CRLF`);
    parts.push(rest.subarray(pos, pos + size));
    pos += size + 2;
  }
}

/** One GET on a connection of its own (Connection: close), plain or over TLS (ALPN http/1.1), read as `reader` says. */
function http1Get(port: number, host: string, path: string, reader: Reader, ca?: Buffer): Promise<Got> {
  return new Promise((resolve, reject) => {
    const s: net.Socket = ca
      ? tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, ALPNProtocols: ['http/1.1'] })
      : net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { s.destroy(); reject(new Error(`GET ${path}: not complete within ${DOWNLOAD_MS} ms (${chunks.reduce((n, c) => n + c.length, 0)} bytes)`)); }, DOWNLOAD_MS);
    s.on('error', (e) => { clearTimeout(timer); reject(e); });
    s.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) { reject(new Error(`GET ${path}: no response head; got ${JSON.stringify(all.toString('latin1', 0, 200))}`)); return; }
      const head = all.toString('latin1', 0, end);
      try {
        resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head, body: http1Body(head, all.subarray(end + 4)) });
      } catch (e) {
        reject(e as Error);
      }
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    applyReader(reader, s, chunks, () => !s.destroyed);
  });
}

/**
 * An HTTP/2 connection: a fast one announces large flow-control windows
 * (the core writes as fast as it reads); otherwise node's 64 KiB windows
 * keep the core's streams waiting for the reader.
 */
async function h2Connect(port: number, ca: Buffer, fast: boolean): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { ca, ...(fast ? { settings: { initialWindowSize: 8 << 20 } } : {}) });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { session.destroy(); reject(new Error('no HTTP/2 connection within 5 s')); }, 5000);
    session.once('connect', () => { clearTimeout(timer); resolve(); });
    session.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
  session.on('error', () => {}); // reported through the streams
  if (fast) session.setLocalWindowSize(32 << 20);
  return session;
}

function h2Get(session: http2.ClientHttp2Session, path: string, reader: Reader): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    const chunks: Buffer[] = [];
    let status = 0;
    let head = '';
    const timer = setTimeout(() => { req.close(http2.constants.NGHTTP2_CANCEL); reject(new Error(`HTTP/2 GET ${path}: not complete within ${DOWNLOAD_MS} ms`)); }, DOWNLOAD_MS);
    req.on('response', (h) => { status = Number(h[':status']); head = JSON.stringify(h); });
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('end', () => { clearTimeout(timer); resolve({ status, head, body: Buffer.concat(chunks) }); });
    applyReader(reader, req, chunks, () => !req.destroyed);
    req.end();
  });
}

async function h2Download(port: number, ca: Buffer, path: string, reader: Reader): Promise<Got> {
  const session = await h2Connect(port, ca, reader === 'fast');
  try {
    return await h2Get(session, path, reader);
  } finally {
    session.destroy();
  }
}

/** The routes of both apps, all with the same pattern, and their sizes. */
const DOWNLOADS = {
  rack: { path: `/big?mib=${MIB}`, mib: MIB },
  'node with Content-Length': { path: `/pattern?mib=${MIB}`, mib: MIB },
  'node chunked, small paced pieces': { path: `/pattern?mib=${MIB}&chunked=1&small=1&pace=immediate`, mib: MIB },
  // Small pieces 1 ms apart (about 4 MB/s, slower than any reader here): 2 MiB, or it would take long.
  'node dribbling small pieces': { path: '/pattern?mib=2&small=1&pace=timer', mib: 2 },
  'node dribbling small pieces, chunked': { path: '/pattern?mib=2&small=1&pace=timer&chunked=1', mib: 2 },
} as const;
type Download = keyof typeof DOWNLOADS;

type Transport = 'HTTP/1.1' | 'HTTP/1.1 over TLS' | 'HTTP/2';

/** One passenger run for one app: plain HTTP on its port, TLS (HTTP/2 and HTTP/1.1 by ALPN) on ssl_port. */
function describeEngine(title: string, app: () => string, args: string[], cases: [Transport, Download, Reader][], together: [Download, Download]): void {
  describe(title, function () {
    this.timeout(60000);
    let ca: TestCa | undefined;
    let caPem: Buffer;
    let p: RunningPassenger | undefined;
    let sslPort: number;

    before(async () => {
      ca = makeTestCa();
      caPem = readFileSync(ca.caCert);
      const { cert, key } = ca.issue('localhost');
      sslPort = await getPort({ host: '127.0.0.1' });
      p = await startPassenger(app(), { args: ['--ssl', '--ssl-certificate', cert, '--ssl-certificate-key', key, '--ssl-port', String(sslPort), ...args] });
    });
    after(async () => {
      await stopAndClean(p);
      p = undefined;
      removeApps();
      ca?.remove();
    });

    for (const [transport, d, reader] of cases) {
      const { path, mib } = DOWNLOADS[d];
      it(`${transport}, ${reader} reader: ${d}, ${mib} MiB intact`, async () => {
        const got = transport === 'HTTP/2' ? await h2Download(sslPort, caPem, path, reader)
          : transport === 'HTTP/1.1' ? await http1Get(p!.port, 'localhost', path, reader)
            : await http1Get(sslPort, 'localhost', path, reader, caPem);
        expectIntact(got, mib);
      });
    }

    it(`HTTP/2, two streams at once on one connection (trickling: ${together[0]}; paused: ${together[1]}): both intact`, async () => {
      // The connection's DATA frames interleave views queued by both streams.
      const session = await h2Connect(sslPort, caPem, false);
      try {
        const got = await Promise.all([h2Get(session, DOWNLOADS[together[0]].path, 'trickle'), h2Get(session, DOWNLOADS[together[1]].path, 'paused')]);
        expectIntact(got[0], DOWNLOADS[together[0]].mib);
        expectIntact(got[1], DOWNLOADS[together[1]].mib);
      } finally {
        session.destroy();
      }
    });

    it(`HTTP/1.1, two connections at once (paused: ${together[0]}; trickling: ${together[1]}): both intact`, async () => {
      const got = await Promise.all([http1Get(p!.port, 'localhost', DOWNLOADS[together[0]].path, 'paused'), http1Get(p!.port, 'localhost', DOWNLOADS[together[1]].path, 'trickle')]);
      expectIntact(got[0], DOWNLOADS[together[0]].mib);
      expectIntact(got[1], DOWNLOADS[together[1]].mib);
    });
  });
}

/** Every reader over plain HTTP/1.1 and HTTP/2, and (`tls`) a paused one over HTTP/1.1 with TLS. */
function matrix(d: Download, tls = true): [Transport, Download, Reader][] {
  return [
    ...READERS.map((r): [Transport, Download, Reader] => ['HTTP/1.1', d, r]),
    ...(tls ? [['HTTP/1.1 over TLS', d, 'paused'] as [Transport, Download, Reader]] : []),
    ...READERS.map((r): [Transport, Download, Reader] => ['HTTP/2', d, r]),
  ];
}

describeEngine('download integrity: a Rack app (session protocol, concurrency 1: responses spooled for slow readers)',
  () => fixtureApp('rack-buffering'), [], [
    ...matrix('rack'),
    // The core's writes are held again at every stop, while the response buffer fills.
    ['HTTP/2', 'rack', 'stop-and-go'],
  ], ['rack', 'rack']);

// buffer_response on: responses of known length are spooled for slow readers too
// (without it, those of an app with unlimited concurrency are not: see the SCGI
// cases); chunked ones never are (streams), whatever the option.
describeEngine('download integrity: a Node app (http_session; buffer_response on: spooled with Content-Length, not chunked)',
  () => nodeApp(), ['--buffer-response', 'on'], [
    ...matrix('node with Content-Length'),
    ...matrix('node chunked, small paced pieces', false),
    ['HTTP/1.1', 'node chunked, small paced pieces', 'stop-and-go'],
    ['HTTP/2', 'node chunked, small paced pieces', 'stop-and-go'],
    // The paused reader's 64 KiB HTTP/2 window is used up at once: every small read that follows stays queued in the core.
    ['HTTP/2', 'node dribbling small pieces, chunked', 'paused'],
    // The response buffer goes slow, catches up and goes slow again: each time the chunk just written must stay untouched.
    ['HTTP/2', 'node dribbling small pieces', 'stalling'],
  ], ['node with Content-Length', 'node chunked, small paced pieces']);

describe('download integrity: the SCGI front behind a real nginx (Rack and Node apps through one core; the Node app not spooled)', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let nginx: RunningNginx | undefined;
  let port: number;
  const rack = fixtureApp('rack-buffering');
  let node: string;

  before(async () => {
    node = nodeApp();
    p = await startPassenger(rack);
    port = await getPort({ host: '127.0.0.1' });
    const conf = await passengerCommand(['nginx-config', rack, node, '--listen', `127.0.0.1:${port}`, '--instance-registry-dir', p.registryDir]);
    expect(conf.code, conf.stderr).to.equal(0);
    nginx = startNginx(conf.stdout);
    // nginx listens once it has read its configuration: wait for a connection to succeed.
    const deadline = Date.now() + 10000;
    for (;;) {
      if (nginx.exited()) throw new Error(`nginx exited: ${nginx.output()}`);
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`nginx did not listen within 10 s: ${nginx.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    await nginx?.stop();
    nginx = undefined;
    await stopAndClean(p);
    p = undefined;
    removeApps();
  });

  // nginx picks the app by server name: its directory's name.
  const hostOf = (d: Download) => basename(d === 'rack' ? rack : node);
  const cases: [Download, Reader][] = [
    ['rack', 'fast'], ['rack', 'paused'], ['rack', 'trickle'], ['rack', 'stop-and-go'],
    ['node with Content-Length', 'paused'], ['node with Content-Length', 'trickle'],
    ['node chunked, small paced pieces', 'paused'], ['node chunked, small paced pieces', 'trickle'],
    // nginx reads no more than the client takes (scgi_buffering off): each stop backs up to the core.
    ['node chunked, small paced pieces', 'stop-and-go'],
  ];
  for (const [d, reader] of cases) {
    const { path, mib } = DOWNLOADS[d];
    it(`${reader} reader through nginx (scgi_buffering off): ${d}, ${mib} MiB intact`, async () => {
      expectIntact(await http1Get(port, hostOf(d), path, reader), mib);
    });
  }
});
