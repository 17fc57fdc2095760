// Zero-downtime upgrade of the server (issue 18, item 4): SIGUSR2 to the
// watchdog starts the installed passenger with the same arguments on the
// same listening sockets; once it serves, the old instance drains and
// exits. The server runs from an installed copy of the package, which is
// replaced by a new version while it serves (as `npm install -g` would);
// under a load on keep-alive connections and on a new connection per
// request, no request fails, and the new instance is the new version: a
// different watchdog, core and app process that takes metrics_address over
// when the old one lets go of it.
import { expect } from 'chai';
import { cpSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { repoRoot, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { lbLoad } from '../support/lb-load.ts';
import { properties, waitFor } from '../core/admin/instance-helpers.ts';

const APP = `require('http').createServer((req, res) => setTimeout(() => res.end('app ' + process.pid), 30)).listen(3000);\n`;

/** An installed copy of the package (its dependencies linked), as a user's install would be. */
function install(version: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'psg-install-'));
  for (const part of ['core', 'plugins', 'helper-scripts', 'bin']) cpSync(join(repoRoot, part), join(dir, part), { recursive: true });
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('zero-downtime upgrade (SIGUSR2)', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  let newWatchdog: number | undefined;
  const installs: string[] = [];

  after(async () => {
    if (newWatchdog !== undefined && alive(newWatchdog)) {
      process.kill(newWatchdog, 'SIGTERM');
      await waitFor(() => !alive(newWatchdog!), 30000, 'the new watchdog to stop');
    }
    await stopAndClean(p);
    removeApps();
    for (const dir of installs) rmSync(dir, { recursive: true, force: true });
  });

  it('hands the listening sockets to the new version under load: no failed request, then the old one exits', async () => {
    const metricsPort = await getPort({ host: '127.0.0.1' });
    const installed = install('0.0.1-old');
    installs.push(installed);
    p = await startPassenger(makeApp({ 'app.js': APP }), { entry: join(installed, 'core/cli/main.ts'), args: ['--drain-delay', '1', '--metrics-address', `127.0.0.1:${metricsPort}`] });
    const old = properties(p);
    expect(old.version).to.equal('0.0.1-old');
    const oldApp = await (await fetch(p.url)).text();
    const keepAlive = lbLoad({ port: p.port, path: '/', clients: 3, maxPerClient: 3000, maxMs: 40000 });
    const fresh = lbLoad({ port: p.port, path: '/', clients: 2, maxPerClient: 3000, maxMs: 40000, newConnections: true });
    // The new version replaces the installed files while the old one serves (a rename, as package managers do).
    const next = install('0.0.2-new');
    installs.push(next);
    const aside = `${installed}-old`;
    renameSync(installed, aside);
    renameSync(next, installed);
    installs.push(aside);
    await new Promise((r) => setTimeout(r, 500));
    process.kill(p.child.pid!, 'SIGUSR2');
    await p.waitForOutput(/upgrade: serving; the old instance \(watchdog pid \d+\) drains and stops/, 40000);
    await waitFor(() => p!.child.exitCode !== null, 30000, 'the old watchdog to exit');
    expect(p.child.exitCode).to.equal(0);
    await new Promise((r) => setTimeout(r, 500));
    for (const [name, load] of [['keep-alive', keepAlive], ['a new connection per request', fresh]] as const) {
      const result = await load.stop();
      expect(result.failures, `failed requests (${name})`).to.deep.equal([]);
      expect(result.ok, name).to.be.greaterThan(20);
    }

    // One instance left, the new one, on the same port.
    const dirs = readdirSync(p.registryDir).filter((n) => /^passenger\.[^.]+$/.test(n));
    expect(dirs).to.have.length(1);
    const upgraded = JSON.parse(readFileSync(join(p.registryDir, dirs[0]!, 'properties.json'), 'utf8')) as { watchdogPid: number; corePid: number; port: number; version: string };
    newWatchdog = upgraded.watchdogPid;
    expect(upgraded.version).to.equal('0.0.2-new');
    expect(upgraded.watchdogPid).to.not.equal(old.watchdogPid);
    expect(upgraded.corePid).to.not.equal(old.corePid);
    expect(upgraded.port).to.equal(p.port);
    expect(await (await fetch(p.url)).text()).to.match(/^app \d+$/).and.not.equal(oldApp);
    expect(alive(old.corePid!)).to.equal(false);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, 20000, 'the new instance on metrics_address');

    process.kill(newWatchdog, 'SIGTERM');
    await waitFor(() => !alive(newWatchdog!), 30000, 'the new watchdog to stop');
    expect(readdirSync(p.registryDir).filter((n) => n.startsWith('passenger.'))).to.deep.equal([]);
  });

  it('a new version that cannot start: the old instance says so and keeps serving', async () => {
    const installed = install('0.0.1-old');
    installs.push(installed);
    const q = await startPassenger(makeApp({ 'app.js': APP }), { entry: join(installed, 'core/cli/main.ts'), args: ['--drain-delay', '1'] });
    try {
      // The "new version" is broken: its CLI exits at once.
      writeFileSync(join(installed, 'core/cli/main.ts'), "process.stderr.write('broken install\\n'); process.exit(1);\n");
      process.kill(q.child.pid!, 'SIGUSR2');
      await q.waitForOutput(/upgrade failed: the new passenger exited \(code 1\) before it served; this instance keeps serving/, 30000);
      expect(q.output()).to.include('broken install');
      const load = lbLoad({ port: q.port, path: '/', clients: 2, maxPerClient: 50, maxMs: 5000 });
      const result = await load.stop();
      expect(result.failures).to.deep.equal([]);
      expect(result.ok).to.be.greaterThan(0);
      expect(q.instanceDirs()).to.have.length(1);
    } finally {
      await stopAndClean(q);
    }
  });
});
