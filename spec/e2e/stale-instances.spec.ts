// When the watchdog and the core are both killed with SIGKILL, no process is
// left to remove the instance directory (the chaos suite's "kill -9 core +
// watchdog" fault shows it): the next server started on the same registry
// removes it. It never removes a live instance's directory, nor a directory
// it does not own, nor one without properties (an instance still starting).
import { expect } from 'chai';
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../../core/spawn/kill.ts';
import { fixtureApp, startPassenger, type RunningPassenger } from '../support/passenger.ts';
import { waitFor } from '../core/admin/instance-helpers.ts';

describe('stale instance directories', function () {
  this.timeout(60000);
  const servers: RunningPassenger[] = [];
  afterEach(async () => {
    // Newest first: the first server's registry is shared, and is removed last.
    for (const p of servers.splice(0).reverse()) {
      await p.stop();
      rmSync(p.registryDir, { recursive: true, force: true });
    }
  });

  const instances = (registry: string) => readdirSync(registry).filter((n) => /^passenger\.[^.]+$/.test(n)).sort();

  /** The instance directory in `registry` whose properties name this watchdog. */
  const dirOf = (registry: string, p: RunningPassenger) => instances(registry).find((n) => {
    try { return (JSON.parse(readFileSync(join(registry, n, 'properties.json'), 'utf8')) as { watchdogPid: number }).watchdogPid === p.child.pid; } catch { return false; }
  });

  it('removes the directory of an instance whose watchdog and core were killed, and only that one, at the next start on the same registry', async () => {
    const first = await startPassenger(fixtureApp('node-basic'));
    servers.push(first);
    const registry = first.registryDir;
    // The later --instance-registry-dir wins over the one startPassenger passes.
    const live = await startPassenger(fixtureApp('node-basic'), { args: ['--instance-registry-dir', registry] });
    servers.push(live);
    const staleName = dirOf(registry, first)!;
    const liveName = dirOf(registry, live)!;
    expect([staleName, liveName].every((n) => typeof n === 'string'), 'both instances have a directory in the registry').to.equal(true);
    const core = (JSON.parse(readFileSync(join(registry, staleName, 'properties.json'), 'utf8')) as { corePid: number }).corePid;
    process.kill(first.child.pid!, 'SIGSTOP');
    process.kill(core, 'SIGSTOP');
    process.kill(first.child.pid!, 'SIGKILL');
    process.kill(core, 'SIGKILL');
    await first.stop('SIGKILL');
    await waitFor(() => !isAlive(core), 10000, 'the core to be gone');
    // Directories the new server must leave: one owned by another user, one still starting (no properties).
    const foreign = join(registry, 'passenger.NOBODY');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'properties.json'), JSON.stringify({ watchdogPid: 999999999, corePid: 999999999 }));
    chownSync(foreign, 65534, 65534);
    const starting = join(registry, 'passenger.STARTS');
    mkdirSync(starting);
    expect(instances(registry)).to.include(staleName);

    const next = await startPassenger(fixtureApp('node-basic'), { args: ['--instance-registry-dir', registry] });
    servers.push(next);
    expect(instances(registry)).to.deep.equal([liveName, dirOf(registry, next)!, 'passenger.NOBODY', 'passenger.STARTS'].sort());
    expect(next.output()).to.include(`removed the stale instance directory ${staleName} (its watchdog, pid ${first.child.pid}, was killed)`);
    expect((await fetch(`${live.url}/`)).status, 'the live instance still serves').to.equal(200);
    rmSync(foreign, { recursive: true });
    rmSync(starting, { recursive: true });
  });
});
