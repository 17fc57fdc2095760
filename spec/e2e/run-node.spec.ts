// `passenger run` on real Node apps, through the built-in HTTP engine.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pidusage from 'pidusage';
import WebSocket from 'ws';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { leftoverProcesses } from '../support/root-hooks.ts';

function request(url: string, opts: http.RequestOptions & { body?: Buffer | (() => AsyncIterable<Buffer>) } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    const body = opts.body;
    if (typeof body === 'function') {
      void (async () => { for await (const c of body()) if (!req.write(c)) await new Promise((r) => req.once('drain', r)); req.end(); })();
    } else req.end(body);
  });
}

function corePid(p: RunningPassenger): number {
  const [dir] = p.instanceDirs();
  return (JSON.parse(readFileSync(join(p.registryDir, dir!, 'properties.json'), 'utf8')) as { corePid: number }).corePid;
}

describe('passenger run: a Node.js app', function () {
  let p: RunningPassenger | undefined;
  before(async () => { p = await startPassenger(fixtureApp('node-basic')); });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('serves GET requests from the app process', async () => {
    const r = await request(`${p!.url}/`);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.match(/^hello from node \d+/);
  });

  it('forwards a POST body intact (checksum matches)', async () => {
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const r = await request(`${p!.url}/sha256`, { method: 'POST', body });
    expect(JSON.parse(r.body.toString())).to.deep.equal({ bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('forwards a chunked upload', async () => {
    const parts = [randomBytes(1000), randomBytes(70000), randomBytes(5)];
    const r = await request(`${p!.url}/sha256`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: async function* () { yield* parts; } });
    const all = Buffer.concat(parts);
    expect(JSON.parse(r.body.toString()).sha256).to.equal(createHash('sha256').update(all).digest('hex'));
  });

  it('streams a response as the app writes it', async () => {
    const r = await request(`${p!.url}/stream`);
    expect(r.body.toString()).to.equal('part 0\npart 1\npart 2\npart 3\npart 4\n');
  });

  it('sets X-Forwarded-* and NODE_ENV=development, and drops hop-by-hop headers', async () => {
    const r = await request(`${p!.url}/headers`, { headers: { 'X-Forwarded-For': '10.9.8.7', 'Keep-Alive': 'timeout=5', Connection: 'keep-alive, X-Secret-Hop', 'X-Secret-Hop': 'no' } });
    const j = JSON.parse(r.body.toString()) as { headers: Record<string, string>; env: string };
    expect(j.headers['x-forwarded-for']).to.equal('10.9.8.7, 127.0.0.1');
    expect(j.headers['x-forwarded-proto']).to.equal('http');
    expect(j.headers['x-forwarded-host']).to.equal(`127.0.0.1:${p!.port}`);
    expect(j.headers).not.to.have.property('x-secret-hop');
    expect(j.headers).not.to.have.property('keep-alive');
    expect(j.env).to.equal('development');
  });

  it("keeps the core's own malloc settings out of the app's environment", async () => {
    const j = JSON.parse((await request(`${p!.url}/headers`)).body.toString()) as { malloc: string[] };
    expect(j.malloc).to.deep.equal([]);
  });

  it('passes WebSocket upgrades through (echo round trip)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${p!.port}/`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping 1'));
      ws.on('message', (m) => resolve(m.toString()));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).to.equal('echo: ping 1');
  });

  it('moves 100 MiB each way without the core growing by anything near that', async function () {
    this.timeout(120000);
    const pid = corePid(p!);
    const before = (await pidusage(pid)).memory;
    const down = await new Promise<number>((resolve, reject) => {
      http.get(`${p!.url}/download?mib=100`, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => { n += c.length; });
        res.on('end', () => resolve(n));
      }).on('error', reject);
    });
    expect(down).to.equal(100 << 20);
    const chunk = Buffer.alloc(1 << 20, 7);
    const up = await request(`${p!.url}/sha256`, { method: 'POST', headers: { 'Content-Length': String(100 << 20) }, body: async function* () { for (let i = 0; i < 100; i++) yield chunk; } });
    expect(JSON.parse(up.body.toString()).bytes).to.equal(100 << 20);
    const after = (await pidusage(pid)).memory;
    expect(after - before, `core RSS grew from ${before} to ${after}`).to.be.below(40 * 2 ** 20);
  });
});

describe('passenger run: other Node.js app shapes', function () {
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });

  it('runs an unmodified Express app that calls app.listen(3000)', async () => {
    p = await startPassenger(fixtureApp('node-express'));
    expect((await request(`${p.url}/`)).body.toString()).to.equal('express says hi');
    const r = await request(`${p.url}/json`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"a":[1,2]}') });
    expect(JSON.parse(r.body.toString())).to.deep.equal({ received: { a: [1, 2] }, forwardedFor: '127.0.0.1' });
  });

  it('runs an ES module app found through package.json "main"', async () => {
    p = await startPassenger(fixtureApp('node-esm'));
    expect((await request(`${p.url}/`)).body.toString()).to.equal('esm true\n');
  });
});

describe('passenger run: stopping', function () {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`exits 0 on ${signal}, with no app process and no instance directory left`, async () => {
      const p = await startPassenger(fixtureApp('node-basic'));
      await request(`${p.url}/`);
      const code = await p.stop(signal);
      expect(code).to.equal(0);
      expect(p.instanceDirs()).to.deep.equal([]);
      await stopAndClean(p);
      const deadline = Date.now() + 3000;
      while (leftoverProcesses().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(leftoverProcesses()).to.deep.equal([]);
    });
  }

  it('lets an in-flight request finish before stopping', async () => {
    const p = await startPassenger(fixtureApp('node-basic'));
    // SIGTERM once the response has begun: the request is then surely in flight, however loaded the machine.
    let begun!: () => void;
    const responseBegun = new Promise<void>((r) => { begun = r; });
    const inflight = new Promise<string>((resolve, reject) => {
      http.get(`${p.url}/stream`, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => { body += c.toString(); begun(); });
        res.on('end', () => resolve(body));
        res.on('error', reject);
      }).on('error', reject);
    });
    await responseBegun;
    const stopped = p.stop('SIGTERM');
    expect(await inflight).to.equal('part 0\npart 1\npart 2\npart 3\npart 4\n');
    expect(await stopped).to.equal(0);
    await stopAndClean(p);
  });
});
