// max_connections_per_client on the built-in HTTP engine, with real sockets:
// connections beyond the limit get 503 and are closed without their request
// reaching the pool; closing one makes room; exempt peers (loopback by
// default, as a proxy on the same machine is) are never limited.
import { expect } from 'chai';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from '../../../core/pool/pool.ts';
import { Forwarder } from '../../../core/server/forward.ts';
import { HttpEngine } from '../../../core/server/http/engine.ts';
import { compileTrustedProxies, DEFAULT_TRUSTED_PROXIES } from '../../../core/server/trusted-proxies.ts';
import type { AppSpec, CoreOptions } from '../../../core/config/app-spec.ts';
import { SpawnerDouble } from '../../support/spawner-double.ts';
import { bootedKernel } from '../../support/kernel.ts';

const kernel = bootedKernel();
const DEFAULTS = Object.fromEntries(kernel.options.list().filter((d) => d.default !== undefined).map((d) => [d.name, d.default]));
const spec: AppSpec = {
  appRoot: '/apps/limited', name: 'limited', appType: 'node', startupFile: '/apps/limited/app.js', detectReason: 'spec',
  options: { ...DEFAULTS, min_instances: 0 } as CoreOptions, sources: {},
};

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** What the server sent before closing, or null when it kept the connection open for `ms`. */
function closedWithin(s: net.Socket, ms: number): Promise<string | null> {
  return new Promise((resolve) => {
    let got = '';
    const timer = setTimeout(() => resolve(null), ms);
    s.setEncoding('latin1');
    s.on('data', (c: string) => { got += c; });
    s.on('error', () => {});
    s.on('close', () => { clearTimeout(timer); resolve(got); });
  });
}

describe('max_connections_per_client (built-in HTTP engine)', () => {
  let spawner: SpawnerDouble;
  let pool: Pool;
  let engine: HttpEngine;
  let dir: string;
  const open: net.Socket[] = [];

  async function start(extra: { isExemptFromConnectionLimit?: (a: string) => boolean }): Promise<number> {
    spawner = new SpawnerDouble();
    pool = new Pool(kernel, spawner, { maxPoolSize: 2, poolIdleTime: 0, processGraceMs: 50, monitorIntervalMs: 3_600_000 }, async () => spec);
    dir = mkdtempSync(join(tmpdir(), 'psg-limit-'));
    const forwarder = new Forwarder(pool, kernel.log, { bufferDir: dir, maxBodySize: 0, clientBodyTimeoutMs: 0 });
    engine = new HttpEngine(forwarder, kernel.log, { port: 0, address: '127.0.0.1', headerTimeoutMs: 0, appFor: () => spec, trusts: compileTrustedProxies(DEFAULT_TRUSTED_PROXIES), maxConnectionsPerClient: 2, ...extra });
    return engine.listen();
  }

  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await engine.close(0);
    await pool.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 to a connection beyond the limit, without passing its request on, and admits one once another closed', async () => {
    const port = await start({ isExemptFromConnectionLimit: () => false });
    open.push(await connect(port), await connect(port));
    const third = await connect(port);
    third.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const reply = await closedWithin(third, 5000);
    expect(reply).to.match(/^HTTP\/1\.1 503 /);
    expect(reply).to.include('max_connections_per_client');
    // The refused request never reached the pool (which would have spawned a process for it).
    expect(spawner.spawned).to.have.length(0);
    open.shift()!.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const fourth = await connect(port);
    open.push(fourth);
    expect(await closedWithin(fourth, 500)).to.equal(null);
  });

  it('never limits loopback peers by default (a proxy on this machine is one peer for all clients)', async () => {
    const port = await start({});
    for (let i = 0; i < 5; i++) open.push(await connect(port));
    const results = await Promise.all(open.map((s) => closedWithin(s, 500)));
    expect(results).to.deep.equal([null, null, null, null, null]);
  });
});
