// Eviction between two apps with real processes: the pool, the direct spawner
// and real Node apps in this process (one instance serving two apps).
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import { Pool } from '../../../core/pool/pool.ts';
import { Session } from '../../../core/pool/session.ts';
import { createDirectSpawner } from '../../../core/spawn/spawner.ts';
import { resolveAppSpec } from '../../../core/config/resolve-app.ts';
import type { AppSpec } from '../../../core/config/app-spec.ts';
import { bootedKernel } from '../../support/kernel.ts';
import { makeApp, removeApps } from '../../support/tmp-app.ts';

const APP = `require('http').createServer((q, s) => s.end(String(process.pid))).listen(3000);\n`;

function getVia(session: Session): Promise<string> {
  const path = session.process.target.socket.address.slice('unix:'.length);
  return new Promise((resolve, reject) => {
    http.get({ socketPath: path, path: '/' }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('pool eviction with real processes', function () {
  this.timeout(30000);
  const kernel = bootedKernel();
  let socketDir: string;
  let pool: Pool;
  let a: AppSpec;
  let b: AppSpec;

  before(async () => {
    socketDir = mkdtempSync(join(tmpdir(), 'psg-sockets-'));
    const spawner = createDirectSpawner({ kernel, socketDir, mode: 'standalone', defaultUser: 'nobody', logLevel: 'error' }, kernel.log);
    pool = new Pool(kernel, spawner, { maxPoolSize: 1, poolIdleTime: 0, processGraceMs: 2000, verifyInvariants: true }, (root) => resolveAppSpec(kernel, { appRoot: root, env: {} }));
    a = await resolveAppSpec(kernel, { appRoot: makeApp({ 'app.js': APP, 'package.json': '{"type":"commonjs"}' }), env: {}, layers: [{ kind: 'flag', values: { min_instances: '0' }, asText: true }] });
    b = await resolveAppSpec(kernel, { appRoot: makeApp({ 'app.js': APP, 'package.json': '{"type":"commonjs"}' }), env: {}, layers: [{ kind: 'flag', values: { min_instances: '0' }, asText: true }] });
  });
  after(async () => {
    await pool.shutdown();
    rmSync(socketDir, { recursive: true, force: true });
    removeApps();
  });

  it('stops the idle process of one app to serve another at max_pool_size', async () => {
    const sa = await pool.checkout(a);
    pool.assertInvariants();
    const pidA = Number(await getVia(sa));
    sa.close();
    pool.assertInvariants();
    const sb = await pool.checkout(b);
    pool.assertInvariants();
    const pidB = Number(await getVia(sb));
    sb.close();
    pool.assertInvariants();
    expect(pidB).not.to.equal(pidA);
    expect(() => process.kill(pidA, 0), 'the evicted process has exited').to.throw();
    expect(pool.findGroup(a.appRoot)!.processes).to.have.length(0);
    expect(pool.stats().processCount).to.equal(1);
  });
});
