// The real nginx from Debian's package in front of one instance, with the
// configuration `passenger nginx-config` prints: two apps (Rack and Node)
// chosen by server name through one core, static files served by nginx, and
// service restored after kill -9 of the core under load.
import { expect } from 'chai';
import { chmodSync } from 'node:fs';
import http from 'node:http';
import { createHash } from 'node:crypto';
import getPort from 'get-port';
import { startPassenger, stopAndClean, fixtureApp, passengerCommand, type RunningPassenger } from '../support/passenger.ts';
import { loadLoop, properties, waitFor } from '../core/admin/instance-helpers.ts';
import { startNginx, type RunningNginx } from '../support/nginx.ts';

const nodeApp = fixtureApp('node-basic');
const rackApp = fixtureApp('rack-nginx');

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function request(port: number, host: string, path: string, opts: { method?: string; body?: Buffer; chunked?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Host: host };
    if (opts.body && !opts.chunked) headers['Content-Length'] = String(opts.body.length);
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (opts.body && opts.chunked) { req.write(opts.body.subarray(0, 1000)); req.end(opts.body.subarray(1000)); } else req.end(opts.body);
  });
}

describe('nginx in front of passenger (SCGI)', function () {
  this.timeout(120000);
  let p: RunningPassenger | undefined;
  let nginx: RunningNginx | undefined;
  let port: number;

  before(async function () {
    p = await startPassenger(nodeApp);
    // nginx workers run as www-data: they must be able to pass through the registry directory.
    chmodSync(p.registryDir, 0o711);
    port = await getPort({ host: '127.0.0.1' });
    const conf = await passengerCommand(['nginx-config', nodeApp, rackApp, '--listen', `127.0.0.1:${port}`, '--instance-registry-dir', p.registryDir]);
    expect(conf.code, conf.stderr).to.equal(0);
    nginx = startNginx(conf.stdout);
    await waitFor(async () => {
      if (nginx!.exited()) throw new Error(`nginx exited: ${nginx!.output()}`);
      return request(port, 'node-basic', '/static-probe').then(() => true, () => false);
    }, 10000, 'nginx to listen');
  });

  after(async () => {
    await nginx?.stop();
    await stopAndClean(p);
  });

  it('serves two apps of different kinds through one core, by server name', async () => {
    const node = await request(port, 'node-basic', '/');
    expect(node.status).to.equal(200);
    expect(node.body.toString()).to.match(/^hello from node \d+/);
    const rack = await request(port, 'rack-nginx', '/hello?x=1');
    expect(rack.status, rack.body.toString()).to.equal(200);
    expect(JSON.parse(rack.body.toString())).to.include({ app: 'rack-nginx', server_name: 'rack-nginx', path: '/hello', query: 'x=1', scheme: 'http' });
    expect(properties(p!).apps).to.have.members([nodeApp, rackApp]);
  });

  it('serves files from public/ itself, without the app', async () => {
    const r = await request(port, 'rack-nginx', '/static.txt');
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('a static file served by nginx from public/\n');
    expect(r.headers['content-type']).to.equal('text/plain');
  });

  it('gives the app the Host header with the port nginx listens on', async () => {
    const r = await request(port, 'node-basic', '/headers');
    expect((JSON.parse(r.body.toString()) as { headers: Record<string, string> }).headers.host).to.equal(`node-basic:${port}`);
  });

  it('carries request bodies intact, also chunked ones (de-chunked by nginx)', async () => {
    const data = Buffer.alloc(2 << 20, 3);
    const sha = createHash('sha256').update(data).digest('hex');
    for (const chunked of [false, true]) {
      const r = await request(port, 'node-basic', '/sha256', { method: 'POST', body: data, chunked });
      expect(JSON.parse(r.body.toString()), `chunked: ${chunked}`).to.deep.equal({ bytes: data.length, sha256: sha });
    }
    const rack = await request(port, 'rack-nginx', '/upload', { method: 'POST', body: data, chunked: true });
    expect((JSON.parse(rack.body.toString()) as { body_bytes: number }).body_bytes).to.equal(data.length);
  });

  it('streams responses without Content-Length, and large ones with it', async () => {
    expect((await request(port, 'node-basic', '/stream')).body.toString()).to.equal('part 0\npart 1\npart 2\npart 3\npart 4\n');
    const big = await request(port, 'node-basic', '/download?mib=4');
    expect(big.body.length).to.equal(4 << 20);
  });

  it('restores service after kill -9 of the core under load through nginx, with few failed requests', async () => {
    const load = loadLoop(async () => (await request(port, 'node-basic', '/')).status === 200, 4, 2000);
    await waitFor(() => load.counts.ok >= 50, 10000, 'some load');
    const oldCore = properties(p!).corePid!;
    process.kill(oldCore, 'SIGKILL');
    await waitFor(() => { try { return properties(p!).corePid !== oldCore; } catch { return false; } }, 15000, 'a new core');
    const okAtRestart = load.counts.ok;
    await waitFor(() => load.counts.ok >= okAtRestart + 50, 10000, 'load to succeed again');
    const result = await load.stop();
    // nginx opens one SCGI connection per request; while the core restarts the watchdog holds the
    // socket, so only requests in flight on the dead core fail (502), about one per client.
    expect(result.failed, JSON.stringify(result)).to.be.at.most(20);
    expect((await request(port, 'rack-nginx', '/')).status).to.equal(200);
  });
});
