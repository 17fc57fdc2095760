// Running under systemd: the unit `passenger systemd-unit` prints passes
// `systemd-analyze verify` (package systemd; systemd is not PID 1 here, the
// verifier does not need it) and has the settings a graceful stop needs;
// socket activation (LISTEN_FDS, tested with systemd-socket-activate) serves
// through the inherited socket, also across a restart of the core.
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { cliEntry, passengerCommand, repoRoot } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { waitFor } from '../core/admin/instance-helpers.ts';
import { listInstanceDirs } from '../../core/instance/instance-dir.ts';

const APP = `require('http').createServer((req, res) => res.end(JSON.stringify({ listenFds: process.env.LISTEN_FDS ?? null, listenPid: process.env.LISTEN_PID ?? null, pid: process.pid }))).listen(3000);\n`;

function unitLines(unit: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of unit.split('\n')) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) m.set(kv[1]!, kv[2]!);
  }
  return m;
}

describe('passenger systemd-unit', function () {
  this.timeout(60000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'psg-unit-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); removeApps(); });

  it('prints a unit that systemd-analyze verify accepts without a warning', async () => {
    const app = makeApp({ 'my app/app.js': APP });
    const appRoot = join(app, 'my app');
    const r = await passengerCommand(['systemd-unit', appRoot, '--user', 'www-data', '--port', '8080', '--shutdown-timeout', '20']);
    expect(r.code, r.stderr).to.equal(0);
    const file = join(dir, 'passenger-app.service');
    writeFileSync(file, r.stdout);
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(verify.status, verify.stderr).to.equal(0);
    expect(verify.stderr).to.equal('');
    const u = unitLines(r.stdout);
    expect(u.get('Type')).to.equal('exec');
    expect(u.get('KillMode')).to.equal('mixed');
    expect(u.get('Restart')).to.equal('on-failure');
    expect(u.get('User')).to.equal('www-data');
    expect(Number(u.get('TimeoutStopSec'))).to.be.greaterThan(20 + 10);
    expect(u.get('ExecReload')).to.equal('/bin/kill -HUP $MAINPID');
    expect(u.get('ExecStart')).to.equal(`${process.execPath} ${join(repoRoot, 'bin/passenger.js')} run "${appRoot}" --port 8080 --shutdown-timeout 20 --environment production`);
    expect(u.get('WorkingDirectory')).to.equal(appRoot);
  });

  it('keeps the environment of the app\'s configuration, and refuses an unknown option', async () => {
    const app = makeApp({ 'app.js': APP, 'Passengerfile.json': JSON.stringify({ environment: 'staging' }) });
    const r = await passengerCommand(['systemd-unit', app]);
    expect(r.code, r.stderr).to.equal(0);
    expect(unitLines(r.stdout).get('ExecStart')).to.equal(`${process.execPath} ${join(repoRoot, 'bin/passenger.js')} run ${app}`);
    expect(r.stdout).to.not.match(/^User=/m);
    const bad = await passengerCommand(['systemd-unit', app, '--max-pool-sise', '3']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('did you mean "max_pool_size"');
  });
});

describe('socket activation (LISTEN_FDS) with systemd-socket-activate', function () {
  this.timeout(90000);
  let activator: ChildProcess | undefined;
  let registry: string;
  let port: number;
  let out = '';

  before(async () => {
    const app = makeApp({ 'app.js': APP });
    registry = mkdtempSync(join(tmpdir(), 'psg-registry-'));
    port = await getPort({ host: '127.0.0.1' });
    // Binds the port itself, then execs passenger (same PID) at the first connection, passing the socket as fd 3.
    activator = spawn('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, process.execPath, '--import', import.meta.resolve('tsx'), cliEntry, 'run', app, '--port', '1', '--instance-registry-dir', registry], { stdio: ['ignore', 'pipe', 'pipe'] });
    activator.stdout!.on('data', (d) => { out += d; });
    activator.stderr!.on('data', (d) => { out += d; });
    await waitFor(() => /Listening on/.test(out), 10000, 'systemd-socket-activate to listen');
  });

  after(async () => {
    if (activator && activator.exitCode === null && activator.signalCode === null) {
      const exited = new Promise((r) => activator!.once('exit', r));
      process.kill(activator.pid!, 'SIGTERM');
      await exited;
    }
    rmSync(registry, { recursive: true, force: true });
    removeApps();
  });

  const get = async () => JSON.parse(await (await fetch(`http://127.0.0.1:${port}/`)).text()) as { listenFds: string | null; listenPid: string | null; pid: number };

  it('serves the first request through the inherited socket (port 1 from the flag is never bound)', async () => {
    const body = await get();
    expect(body.pid).to.be.a('number');
    expect(out).to.include('HTTP on the socket passed by the service manager');
    const props = listInstanceDirs(registry)[0]!.readProperties();
    expect(props.port).to.equal(port);
    expect(props.watchdogPid, 'passenger runs in the process the activator exec\'d').to.equal(activator!.pid);
  });

  it('does not pass LISTEN_* on to the app', async () => {
    expect(await get()).to.include({ listenFds: null, listenPid: null });
  });

  it('keeps serving through the same socket after the core is killed', async () => {
    const props = listInstanceDirs(registry)[0]!.readProperties();
    process.kill(props.corePid!, 'SIGKILL');
    await waitFor(() => { try { return listInstanceDirs(registry)[0]!.readProperties().corePid !== props.corePid; } catch { return false; } }, 20000, 'a new core');
    expect((await get()).pid).to.be.a('number');
  });

  it('stops on SIGTERM like passenger run, removing its instance directory', async () => {
    const exited = new Promise<number | null>((r) => activator!.once('exit', (code) => r(code)));
    process.kill(activator!.pid!, 'SIGTERM');
    expect(await exited).to.equal(0);
    expect(readdirSync(registry).filter((n) => n.startsWith('passenger.'))).to.deep.equal([]);
  });
});
