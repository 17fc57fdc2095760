// With several instances running, `status`, `stop` and `restart-app` pick the
// instance serving the app directory they are run in (or below), or that they
// name, instead of asking for --instance.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPassenger, stopAndClean, fixtureApp, passengerCommand, type RunningPassenger } from '../support/passenger.ts';
import { listInstanceDirs } from '../../core/instance/instance-dir.ts';

const nodeApp = fixtureApp('node-basic');
const pythonApp = fixtureApp('generic-python');

interface Status { instance: { name: string; watchdogPid: number }; pool: { groups: { appRoot: string; generation: number }[] } }

describe('choosing the instance by app directory', function () {
  this.timeout(90000);
  let a: RunningPassenger | undefined;
  let b: RunningPassenger | undefined;
  let elsewhere: string;
  let reg: string[];

  before(async () => {
    a = await startPassenger(nodeApp);
    b = await startPassenger(pythonApp, { args: ['--instance-registry-dir', a.registryDir] });
    reg = ['--instance-registry-dir', a.registryDir];
    elsewhere = mkdtempSync(join(tmpdir(), 'psg-elsewhere-'));
  });

  after(async () => {
    await b?.stop();
    await stopAndClean(b);
    await stopAndClean(a);
    rmSync(elsewhere, { recursive: true, force: true });
  });

  const status = async (args: string[], cwd: string): Promise<Status> => {
    const r = await passengerCommand(['status', '--json', ...args, ...reg], process.env, 30000, cwd);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Status;
  };

  it('status run inside an app directory shows the instance serving it', async () => {
    expect((await status([], nodeApp)).instance.watchdogPid).to.equal(a!.child.pid);
    expect((await status([], pythonApp)).instance.watchdogPid).to.equal(b!.child.pid);
  });

  it('status run below an app directory, or naming one, does too', async () => {
    expect((await status([], join(pythonApp, 'public'))).instance.watchdogPid).to.equal(b!.child.pid);
    expect((await status([pythonApp], elsewhere)).instance.watchdogPid).to.equal(b!.child.pid);
    expect((await status([nodeApp], pythonApp)).instance.watchdogPid).to.equal(a!.child.pid);
  });

  it('outside every app directory, still asks, and says none serves it', async () => {
    const r = await passengerCommand(['status', ...reg], process.env, 30000, elsewhere);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('PSG_ERR_INSTANCE_AMBIGUOUS').and.include('none serves the current directory').and.include('--instance NAME');
  });

  it('restart-app inside an app directory restarts that app of that instance', async () => {
    const before = (await status([], nodeApp)).pool.groups[0]!.generation;
    const r = await passengerCommand(['restart-app', ...reg], process.env, 30000, nodeApp);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`restarting ${nodeApp}`);
    const deadline = Date.now() + 20000;
    let generation = before;
    while (generation === before && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      generation = (await status([], nodeApp)).pool.groups[0]!.generation;
    }
    expect(generation).to.be.greaterThan(before);
  });

  it('stop inside an app directory stops the instance serving it, and only that one', async () => {
    const r = await passengerCommand(['stop', ...reg], process.env, 60000, pythonApp);
    expect(r.code, r.stderr).to.equal(0);
    // `passenger stop` has asked the watchdog to stop: wait for it to exit by itself. A SIGTERM
    // sent now could land while Node tears the process down, with default signal dispositions.
    const child = b!.child;
    const code = child.exitCode ?? child.signalCode ?? await new Promise<number | string | null>((r) => child.once('exit', (c, s) => r(c ?? s)));
    expect(code).to.equal(0);
    expect(listInstanceDirs(a!.registryDir).map((d) => d.readProperties().watchdogPid)).to.deep.equal([a!.child.pid]);
    expect((await fetch(`${a!.url}/`)).status).to.equal(200);
  });
});
