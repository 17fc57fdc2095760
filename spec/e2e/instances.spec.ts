// Several instances on one machine: separate directories, sockets and
// passwords; commands ask which one is meant and list them.
import { expect } from 'chai';
import { startPassenger, stopAndClean, fixtureApp, passengerCommand, type RunningPassenger } from '../support/passenger.ts';
import { properties } from '../core/admin/instance-helpers.ts';
import { listInstanceDirs } from '../../core/instance/instance-dir.ts';

describe('two instances side by side', function () {
  this.timeout(90000);
  let a: RunningPassenger | undefined;
  let b: RunningPassenger | undefined;

  after(async () => {
    await b?.stop();
    await stopAndClean(b);
    await stopAndClean(a);
  });

  it('run in one registry with their own directories, sockets, ports and passwords', async () => {
    a = await startPassenger(fixtureApp('node-basic'));
    b = await startPassenger(fixtureApp('generic-python'), { args: ['--instance-registry-dir', a.registryDir] });
    const dirs = listInstanceDirs(a.registryDir);
    expect(dirs).to.have.length(2);
    const [pa, pb] = dirs.map((d) => d.readProperties());
    expect(pa!.scgiSocket).to.not.equal(pb!.scgiSocket);
    expect(pa!.port).to.not.equal(pb!.port);
    expect(dirs[0]!.readPasswords().full).to.not.equal(dirs[1]!.readPasswords().full);
    expect(await (await fetch(`${a.url}/`)).text()).to.match(/hello from node/);
    expect(await (await fetch(`${b.url}/`)).text()).to.match(/static file/);
  });

  it('commands refuse to guess and list the instances; --instance picks one', async () => {
    const reg = ['--instance-registry-dir', a!.registryDir];
    const names = listInstanceDirs(a!.registryDir).map((d) => d.name);
    const ambiguous = await passengerCommand(['status', ...reg]);
    expect(ambiguous.code).to.equal(2);
    expect(ambiguous.stderr).to.include('PSG_ERR_INSTANCE_AMBIGUOUS').and.include('--instance NAME');
    for (const n of names) expect(ambiguous.stderr).to.include(n);
    const nameB = listInstanceDirs(a!.registryDir).find((d) => d.readProperties().watchdogPid === b!.child.pid)!.name;
    const one = await passengerCommand(['status', '--json', '--instance', nameB, ...reg]);
    expect(one.code, one.stderr).to.equal(0);
    expect((JSON.parse(one.stdout) as { pool: { groups: { name: string }[] } }).pool.groups.map((g) => g.name)).to.deep.equal(['generic-python']);
    const missing = await passengerCommand(['status', '--instance', 'nosuch', ...reg]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include('PSG_ERR_INSTANCE_NOT_FOUND');
  });

  it('stopping one leaves the other serving', async () => {
    const reg = ['--instance-registry-dir', a!.registryDir];
    const nameB = listInstanceDirs(a!.registryDir).find((d) => d.readProperties().watchdogPid === b!.child.pid)!.name;
    const stop = await passengerCommand(['stop', '--instance', nameB, ...reg]);
    expect(stop.code, stop.stderr).to.equal(0);
    expect(await b!.stop()).to.equal(0);
    expect(listInstanceDirs(a!.registryDir)).to.have.length(1);
    expect((await fetch(`${a!.url}/`)).status).to.equal(200);
    expect(properties(a!).apps).to.deep.equal([fixtureApp('node-basic')]);
  });
});
