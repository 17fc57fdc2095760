// The admin API and the CLI commands built on it, against a real instance
// serving two apps (one through the HTTP engine, one through SCGI).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPassenger, stopAndClean, fixtureApp, passengerCommand, type RunningPassenger } from '../../support/passenger.ts';
import { adminRequest } from '../../../core/admin/client.ts';
import type { StatusReply } from '../../../core/cli/commands/status.ts';
import { scgiRequest } from '../server/scgi/scgi-client.ts';
import { instancePath, password, pidGone, properties, waitFor, scgiSecret } from './instance-helpers.ts';

const nodeApp = fixtureApp('node-basic');
const genericApp = fixtureApp('generic-python');

function nobodyUid(): number {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('nobody:'));
  return Number(line!.split(':')[2]);
}

describe('admin API and instance commands', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let admin: string;
  const registryArgs = () => ['--instance-registry-dir', p!.registryDir];
  const status = async () => (await adminRequest<StatusReply>(admin, password(p!, 'read_only'), 'GET', '/status')).body;

  before(async () => {
    p = await startPassenger(nodeApp);
    admin = join(instancePath(p), 'admin.sock');
    const r = await scgiRequest(join(instancePath(p), 'request.sock'), { REQUEST_METHOD: 'GET', REQUEST_URI: '/', PASSENGER_APP_ROOT: genericApp, PASSENGER_SCGI_SECRET: scgiSecret(p) });
    expect(r.status).to.equal(200);
  });
  after(async () => { await stopAndClean(p); });

  describe('authentication', () => {
    it('refuses a request without a password with 401', async () => {
      const r = await adminRequest<{ code: string }>(admin, undefined, 'GET', '/status');
      expect(r.status).to.equal(401);
      expect(r.body.code).to.equal('PSG_ERR_ADMIN_AUTH');
    });

    it('refuses a wrong password with 401', async () => {
      const r = await adminRequest(admin, 'f'.repeat(64), 'GET', '/status');
      expect(r.status).to.equal(401);
    });

    it('lets the read-only password read the status', async () => {
      const r = await adminRequest<StatusReply>(admin, password(p!, 'read_only'), 'GET', '/status');
      expect(r.status).to.equal(200);
      expect(r.body.pool.groups.map((g) => g.name).sort()).to.deep.equal(['generic-python', 'node-basic']);
    });

    for (const [method, path] of [['POST', '/apps/restart'], ['POST', '/stop'], ['POST', '/processes/1/detach']] as const) {
      it(`forbids ${method} ${path} with the read-only password (403)`, async () => {
        const r = await adminRequest<{ code: string }>(admin, password(p!, 'read_only'), method, path, { appRoot: nodeApp });
        expect(r.status).to.equal(403);
        expect(r.body.code).to.equal('PSG_ERR_ADMIN_FORBIDDEN');
      });
    }
  });

  describe('actions with the full-access password', () => {
    it('restarts an app (rolling: a new generation replaces the process)', async () => {
      const before = (await status()).pool.groups.find((g) => g.appRoot === nodeApp)!;
      const oldPid = before.processes[0]!.pid;
      const r = await adminRequest(admin, password(p!, 'full'), 'POST', '/apps/restart', { appRoot: nodeApp });
      expect(r.status).to.equal(200);
      await waitFor(async () => {
        const g = (await status()).pool.groups.find((x) => x.appRoot === nodeApp)!;
        return g.generation === before.generation + 1 && g.processes.length === 1 && g.processes[0]!.pid !== oldPid;
      }, 15000, 'the restarted process');
      await waitFor(() => pidGone(oldPid), 10000, 'the old process to exit');
    });

    it('answers 404 for an app that is not in the pool', async () => {
      const r = await adminRequest(admin, password(p!, 'full'), 'POST', '/apps/restart', { appRoot: '/nonexistent' });
      expect(r.status).to.equal(404);
    });

    it('detaches a process: it leaves the pool and exits', async () => {
      const g = (await status()).pool.groups.find((x) => x.appRoot === genericApp)!;
      const pid = g.processes[0]!.pid;
      const r = await adminRequest(admin, password(p!, 'full'), 'POST', `/processes/${pid}/detach`);
      expect(r.status).to.equal(200);
      await waitFor(() => pidGone(pid), 10000, `process ${pid} to exit`);
      const after = (await status()).pool.groups.find((x) => x.appRoot === genericApp)!;
      expect(after.processes.map((x) => x.pid)).to.not.include(pid);
    });
  });

  describe('CLI and files', () => {
    it('keeps every instance file away from other users (a client running as nobody)', () => {
      const dir = instancePath(p!);
      const probe = `
        const fs = require('fs'); const net = require('net');
        const out = {};
        for (const f of ['properties.json', 'read_only_admin_password.txt', 'full_admin_password.txt']) {
          try { fs.readFileSync(${JSON.stringify(dir)} + '/' + f); out[f] = 'read'; } catch (e) { out[f] = e.code; }
        }
        try { fs.readdirSync(${JSON.stringify(dir)}); out.list = 'listed'; } catch (e) { out.list = e.code; }
        let pending = 2;
        for (const s of ['admin.sock', 'request.sock']) {
          const c = net.connect(${JSON.stringify(dir)} + '/' + s);
          c.on('connect', () => { out[s] = 'connected'; c.destroy(); if (--pending === 0) console.log(JSON.stringify(out)); });
          c.on('error', (e) => { out[s] = e.code; if (--pending === 0) console.log(JSON.stringify(out)); });
        }`;
      const r = spawnSync(process.execPath, ['-e', probe], { uid: nobodyUid(), gid: nobodyUid(), encoding: 'utf8', cwd: '/' });
      expect(r.stderr).to.equal('');
      expect(JSON.parse(r.stdout)).to.deep.equal({
        'properties.json': 'EACCES', 'read_only_admin_password.txt': 'EACCES', 'full_admin_password.txt': 'EACCES',
        list: 'EACCES', 'admin.sock': 'EACCES', 'request.sock': 'EACCES',
      });
  });

  it('passenger status prints the pool of two apps as a table, and as JSON', async () => {
    const table = await passengerCommand(['status', ...registryArgs()]);
    expect(table.code, table.stderr).to.equal(0);
    expect(table.stdout).to.match(new RegExp(`Instance ${properties(p!).name} `));
    expect(table.stdout).to.include(`node-basic: ${nodeApp} (node, development)`);
    expect(table.stdout).to.include(`generic-python: ${genericApp} (generic, development)`);
    expect(table.stdout).to.match(/PID\s+STATE\s+SESSIONS\s+PROCESSED\s+CPU\s+MEMORY\s+UPTIME\s+IDLE/);
    expect(table.stdout).to.match(/\n\s+\d+\s+enabled\s+0\/∞\s+\d+/);
    const json = await passengerCommand(['status', '--json', ...registryArgs()]);
    const parsed = JSON.parse(json.stdout) as StatusReply;
    expect(parsed.instance.corePid).to.equal(properties(p!).corePid);
    expect(parsed.pool.groups).to.have.length(2);
  });

  it('passenger restart-app DIR restarts that app; without DIR it lists the apps and asks', async () => {
    const ask = await passengerCommand(['restart-app', ...registryArgs()]);
    expect(ask.code).to.equal(2);
    expect(ask.stderr).to.include(nodeApp).and.include(genericApp);
    const r = await passengerCommand(['restart-app', genericApp, ...registryArgs()]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`restarting ${genericApp}`);
  });

  });

  describe('stopping', () => {
    it('passenger stop stops everything and removes the instance directory', async () => {
      const pids = [properties(p!).watchdogPid, properties(p!).corePid!, ...(await status()).pool.groups.flatMap((g) => g.processes.map((x) => x.pid))];
      const r = await passengerCommand(['stop', ...registryArgs()]);
      expect(r.code, r.stderr).to.equal(0);
      expect(p!.instanceDirs()).to.deep.equal([]);
      await waitFor(() => pids.every(pidGone), 10000, 'every process to exit');
      expect(await p!.stop()).to.equal(0);
    });
  });
});
