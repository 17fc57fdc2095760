// max_pool_size inside a real cgroup (issue 18, item 6): a memory and a cpu
// cgroup made by hand (v1, as on these machines) with a memory limit and a
// CPU quota, the server's PID written into both before it starts; the pool
// size it derives, and how, as `passenger status` and `detect` say.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliEntry, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

const APP = `require('http').createServer((req, res) => res.end('up')).listen(3000);\n`;

/** This process's cgroup path in a v1 controller's hierarchy (new cgroups go below it, never outside). */
function ownPath(controller: string): string {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
  return line?.split(':')[2] ?? '/';
}

describe('max_pool_size from the cgroup limits (a real v1 cgroup)', function () {
  this.timeout(90000);
  const name = `psg-pool-${process.pid}`;
  const memDir = join('/sys/fs/cgroup/memory', ownPath('memory'), name);
  const cpuDir = join('/sys/fs/cgroup/cpu', ownPath('cpu'), name);
  // Runs the command after putting this very process (sh, which then execs it) into both cgroups.
  const inCgroup = ['sh', '-c', 'echo $$ > "$1" && echo $$ > "$2" && shift 2 && exec "$@"', 'sh', join(memDir, 'cgroup.procs'), join(cpuDir, 'cgroup.procs')];
  let p: RunningPassenger | undefined;
  let app: string;

  before(() => {
    mkdirSync(memDir);
    mkdirSync(cpuDir);
    writeFileSync(join(memDir, 'memory.limit_in_bytes'), String(600 * 2 ** 20));
    writeFileSync(join(cpuDir, 'cpu.cfs_period_us'), '100000');
    writeFileSync(join(cpuDir, 'cpu.cfs_quota_us'), '150000');
    app = makeApp({ 'app.js': APP });
  });
  after(async () => {
    await stopAndClean(p);
    // A cgroup can be removed once its processes are gone (they may take a moment to be reaped).
    for (const dir of [memDir, cpuDir]) {
      for (let i = 0; i < 50 && existsSync(dir); i++) {
        try { rmdirSync(dir); } catch { await new Promise((r) => setTimeout(r, 100)); }
      }
    }
    removeApps();
  });

  it('the server derives it from the CPU quota (1.5 CPUs × 1 for Node.js = 2), and status says how', async () => {
    p = await startPassenger(app, { prefix: inCgroup });
    expect(readFileSync(join(memDir, 'cgroup.procs'), 'utf8').split('\n')).to.include(String(p.child.pid));
    const status = await passengerCommand(['status', '--instance-registry-dir', p.registryDir]);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.include('of max_pool_size 2');
    expect(status.stdout).to.match(/max_pool_size: 2 from cgroup v1: CPU quota 1\.5 × 1 per CPU \(node\) = 2; memory limit 600 MiB − 128 MiB for the server, ÷ 90 MiB per process = 5/);
    expect(p.output()).to.include('max_pool_size 2 from cgroup v1');
    await stopAndClean(p);
    p = undefined;
  });

  it('a tight memory limit caps it, as passenger detect shows; a configured max_pool_size wins', () => {
    writeFileSync(join(cpuDir, 'cpu.cfs_quota_us'), '400000');
    writeFileSync(join(memDir, 'memory.limit_in_bytes'), String(350 * 2 ** 20));
    const detect = (extra: string[]) => JSON.parse(execFileSync(inCgroup[0]!, [...inCgroup.slice(1), process.execPath, '--import', 'tsx', cliEntry, 'detect', app, '--json', ...extra], { encoding: 'utf8', timeout: 30000 })) as { maxPoolSize: number; poolSizing: string };
    const derived = detect([]);
    expect(derived.maxPoolSize).to.equal(2);
    expect(derived.poolSizing).to.equal('2 from cgroup v1: CPU quota 4 × 1 per CPU (node) = 4; memory limit 350 MiB − 128 MiB for the server, ÷ 90 MiB per process = 2 (the cap)');
    const configured = detect(['--max-pool-size', '5']);
    expect(configured).to.include({ maxPoolSize: 5, poolSizing: '5 (max_pool_size from flag --max-pool-size)' });
  });
});
