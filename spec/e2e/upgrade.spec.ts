// Zero-downtime upgrade of the server (issue 18, item 4): SIGUSR2 to the
// watchdog starts the installed passenger with the same arguments on the
// same listening sockets; once it serves, the old instance drains and
// exits. Under a load on keep-alive and new connections, no request fails,
// and the new instance is a different watchdog, core and app process that
// takes metrics_address over when the old one lets go of it.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { lbLoad } from '../support/lb-load.ts';
import { properties, waitFor } from '../core/admin/instance-helpers.ts';

const APP = `require('http').createServer((req, res) => setTimeout(() => res.end('app ' + process.pid), 30)).listen(3000);\n`;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

describe('zero-downtime upgrade (SIGUSR2)', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  let newWatchdog: number | undefined;

  after(async () => {
    if (newWatchdog !== undefined && alive(newWatchdog)) {
      process.kill(newWatchdog, 'SIGTERM');
      await waitFor(() => !alive(newWatchdog!), 30000, 'the new watchdog to stop');
    }
    await stopAndClean(p);
    removeApps();
  });

  it('hands the listening sockets to a new instance under load: no failed request, then the old one exits', async () => {
    const metricsPort = await getPort({ host: '127.0.0.1' });
    p = await startPassenger(makeApp({ 'app.js': APP }), { args: ['--drain-delay', '1', '--metrics-address', `127.0.0.1:${metricsPort}`] });
    const old = properties(p);
    const oldApp = await (await fetch(p.url)).text();
    const load = lbLoad({ port: p.port, path: '/', clients: 4, maxPerClient: 3000, maxMs: 40000 });
    await new Promise((r) => setTimeout(r, 500));
    process.kill(p.child.pid!, 'SIGUSR2');
    await p.waitForOutput(/upgrade: serving; the old instance \(watchdog pid \d+\) drains and stops/, 40000);
    await waitFor(() => p!.child.exitCode !== null, 30000, 'the old watchdog to exit');
    expect(p.child.exitCode).to.equal(0);
    await new Promise((r) => setTimeout(r, 500));
    const result = await load.stop();
    expect(result.failures, 'failed requests').to.deep.equal([]);
    expect(result.ok).to.be.greaterThan(20);

    // One instance left, the new one, on the same port.
    const dirs = readdirSync(p.registryDir).filter((n) => /^passenger\.[^.]+$/.test(n));
    expect(dirs).to.have.length(1);
    const fresh = JSON.parse(readFileSync(join(p.registryDir, dirs[0]!, 'properties.json'), 'utf8')) as { watchdogPid: number; corePid: number; port: number };
    newWatchdog = fresh.watchdogPid;
    expect(fresh.watchdogPid).to.not.equal(old.watchdogPid);
    expect(fresh.corePid).to.not.equal(old.corePid);
    expect(fresh.port).to.equal(p.port);
    expect(await (await fetch(p.url)).text()).to.match(/^app \d+$/).and.not.equal(oldApp);
    expect(alive(old.corePid!)).to.equal(false);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).catch(() => undefined))?.status === 200, 20000, 'the new instance on metrics_address');

    process.kill(newWatchdog, 'SIGTERM');
    await waitFor(() => !alive(newWatchdog!), 30000, 'the new watchdog to stop');
    expect(readdirSync(p.registryDir).filter((n) => n.startsWith('passenger.'))).to.deep.equal([]);
  });
});
