// The watchdog restores service after the core is killed with SIGKILL, and
// no app process of the dead core lingers. Load loops are bounded in count
// and time; only the number of failed requests is asserted (figures from the
// measurements are in the commit log and the report).
import { expect } from 'chai';
import http from 'node:http';
import { startPassenger, stopAndClean, fixtureApp, type RunningPassenger } from '../support/passenger.ts';
import { adminRequest } from '../../core/admin/client.ts';
import type { StatusReply } from '../../core/cli/commands/status.ts';
import { instancePath, loadLoop, password, pidGone, properties, waitFor } from '../core/admin/instance-helpers.ts';

/** A GET on a fresh connection (no keep-alive pool). */
function getStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject);
  });
}

describe('watchdog', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });

  const appPids = async (q: RunningPassenger) => {
    const s = (await adminRequest<StatusReply>(`${instancePath(q)}/admin.sock`, password(q, 'read_only'), 'GET', '/status')).body;
    return s.pool.groups.flatMap((g) => g.processes.map((x) => x.pid));
  };

  it('restores service after kill -9 of the core under load, losing only requests in flight, and leaves no app process behind', async () => {
    p = await startPassenger(fixtureApp('node-basic'));
    const url = `${p.url}/`;
    const load = loadLoop(async () => (await fetch(url).then(async (r) => { await r.text(); return r.status; })) === 200, 4, 2000);
    await waitFor(() => load.counts.ok >= 50, 10000, 'some load');
    const oldCore = properties(p).corePid!;
    const oldApps = await appPids(p);
    process.kill(oldCore, 'SIGKILL');
    await p.waitForOutput(/core restarted \(pid \d+\) and serving again/, 15000);
    const okAtRestart = load.counts.ok;
    await waitFor(() => load.counts.ok >= okAtRestart + 50, 10000, 'load to succeed again');
    const result = await load.stop();
    expect(properties(p).corePid).to.not.equal(oldCore);
    // The watchdog holds the listening socket while the core restarts: connections wait rather than
    // being refused, so only requests in flight on the dead core's connections fail (about 1 per client).
    expect(result.failed, JSON.stringify(result)).to.be.at.most(20);
    await waitFor(() => oldApps.every(pidGone), 10000, 'the dead core\'s app processes to be gone');
    expect((await fetch(url)).status).to.equal(200);
  });

  it('restarts the core again and again, keeping the same port, sockets and passwords', async () => {
    p = await startPassenger(fixtureApp('node-basic'));
    const before = properties(p);
    const full = password(p, 'full');
    for (let i = 0; i < 3; i++) {
      const core = properties(p).corePid!;
      process.kill(core, 'SIGKILL');
      await waitFor(() => (p!.output().match(/the core exited unexpectedly/g) ?? []).length === i + 1, 10000, 'the watchdog to notice');
      // A request on a new connection while no core runs waits for the next core instead of failing.
      expect(await getStatus(`${p.url}/`)).to.equal(200);
      await waitFor(() => { try { return properties(p!).corePid !== core; } catch { return false; } }, 10000, 'new properties');
    }
    const after = properties(p);
    expect([after.port, after.scgiSocket, after.createdAt]).to.deep.equal([before.port, before.scgiSocket, before.createdAt]);
    expect(password(p, 'full')).to.equal(full);
  });

  it('stops everything and removes the instance directory on SIGTERM', async () => {
    p = await startPassenger(fixtureApp('node-basic'));
    const pids = [properties(p).corePid!, ...(await appPids(p))];
    expect(await p.stop('SIGTERM')).to.equal(0);
    expect(p.instanceDirs()).to.deep.equal([]);
    await waitFor(() => pids.every(pidGone), 10000, 'every process to exit');
  });
});
