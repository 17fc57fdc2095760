// No process outlives the server, however it dies: SIGKILL of the watchdog and
// the core together (frozen first with SIGSTOP, so neither can clean up after
// the other) leaves no app process, preloader or forked child running, and the
// app's port closed. SIGKILL of the watchdog alone leaves no instance directory.
import { expect } from 'chai';
import net from 'node:net';
import { readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { isAlive } from '../../core/spawn/kill.ts';
import { startPassenger, fixtureApp, type RunningPassenger } from '../support/passenger.ts';
import { leftoverProcesses } from '../support/root-hooks.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { properties, waitFor } from '../core/admin/instance-helpers.ts';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

/**
 * Every process below `root`, from /proc. Ruby's `$0 =` overwrites the area /proc/PID/environ
 * reads, so the spec token of root-hooks.ts cannot find Rack processes: the tree can.
 */
function descendants(root: number): { pid: number; cmd: string }[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch { /* exited meanwhile */ }
  }
  const found: { pid: number; cmd: string }[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      try { found.push({ pid: c, cmd: readFileSync(`/proc/${c}/cmdline`, 'latin1').replaceAll('\0', ' ').trim() }); } catch { continue; }
      walk(c);
    }
  };
  walk(root);
  return found;
}

/** Listening TCP ports (IPv4) of a process, from /proc/net/tcp and its socket inodes. */
async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  return readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && inodes.has(f[9]!))
    .map((f) => parseInt(f[1]!.split(':')[1]!, 16));
}

describe('no orphan processes', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let seen: { pid: number }[] = [];
  afterEach(async () => {
    for (const x of seen.splice(0)) if (isAlive(x.pid)) { try { process.kill(x.pid, 'SIGKILL'); } catch { /* gone */ } }
    // A server killed on purpose cannot clean up; whatever a failed test left is ended here, by pid.
    for (const x of leftoverProcesses()) { try { process.kill(x.pid, 'SIGKILL'); } catch { /* gone */ } }
    if (p) { await p.stop('SIGKILL'); rmSync(p.registryDir, { recursive: true, force: true }); }
    p = undefined;
    removeApps();
  });

  /** SIGKILL the watchdog (the CLI) and the core at the same instant; resolves with the app processes that were running. */
  async function killWatchdogAndCore(q: RunningPassenger): Promise<{ pid: number; cmd: string }[]> {
    const watchdog = q.child.pid!;
    const core = properties(q).corePid!;
    const apps = descendants(core);
    seen = apps;
    process.kill(watchdog, 'SIGSTOP');
    process.kill(core, 'SIGSTOP');
    process.kill(watchdog, 'SIGKILL');
    process.kill(core, 'SIGKILL');
    await q.stop('SIGKILL'); // reaps the CLI
    return apps;
  }

  async function expectAllGone(apps: { pid: number; cmd: string }[], ports: number[]): Promise<void> {
    expect(apps.length, 'app processes were running before the kill').to.be.greaterThan(0);
    const running = () => [...leftoverProcesses(), ...apps.filter((a) => isAlive(a.pid))];
    await waitFor(() => running().length === 0, 15000, 'every process to exit').catch(() => {});
    expect(running()).to.deep.equal([]);
    for (const port of ports) expect(await portOpen(port), `port ${port} still accepts connections`).to.equal(false);
  }

  it('takes down a generic app (app_start_command under /bin/sh, with a child of its own)', async () => {
    // Not `exec`: the shell stays the group leader and python3 is its child, as with many start scripts.
    const app = makeApp({
      'Passengerfile.json': JSON.stringify({ app_start_command: '/usr/bin/python3 -m http.server $PORT --bind 127.0.0.1; echo exited' }),
      'index.html': 'generic\n',
    });
    p = await startPassenger(app);
    expect(await (await fetch(`${p.url}/index.html`)).text()).to.equal('generic\n');
    const ports = (await Promise.all(leftoverProcesses().filter((x) => x.cmd.includes('http.server')).map((x) => listeningPorts(x.pid)))).flat();
    expect(ports.length).to.be.greaterThan(0);
    await expectAllGone(await killWatchdogAndCore(p), ports);
  });

  it('takes down an app a third-party plugin starts on $PORT (portLoader)', async () => {
    p = await startPassenger(fixtureApp('thirdparty-procfile'));
    expect((await fetch(`${p.url}/index.html`)).status).to.equal(200);
    const ports = (await Promise.all(leftoverProcesses().filter((x) => x.cmd.includes('http.server')).map((x) => listeningPorts(x.pid)))).flat();
    expect(ports.length).to.be.greaterThan(0);
    await expectAllGone(await killWatchdogAndCore(p), ports);
  });

  it('takes down a Rack app\'s preloader and the processes it forked (smart spawning)', async () => {
    p = await startPassenger(fixtureApp('rack-preload'), { args: ['--spawn-method', 'smart', '--min-instances', '2'], env: { ...process.env, PRELOAD_SLEEP: '0' } });
    await waitFor(async () => (await (await fetch(`${p!.url}/`)).text()).includes('hook=ran'), 10000, 'a forked process to answer');
    const apps = descendants(properties(p).corePid!).filter((x) => x.cmd.includes('Passenger Rack'));
    expect(apps.length, JSON.stringify(apps)).to.be.at.least(2); // the preloader and at least one forked child
    await expectAllGone(await killWatchdogAndCore(p), []);
  });

  it('takes down a Node app', async () => {
    p = await startPassenger(fixtureApp('node-basic'));
    expect((await fetch(`${p.url}/`)).status).to.equal(200);
    await expectAllGone(await killWatchdogAndCore(p), []);
  });

  it('removes the instance directory and stops the app when only the watchdog is killed', async () => {
    p = await startPassenger(fixtureApp('node-basic'));
    expect((await fetch(`${p.url}/`)).status).to.equal(200);
    expect(p.instanceDirs()).to.have.length(1);
    process.kill(p.child.pid!, 'SIGKILL');
    await p.stop('SIGKILL');
    await waitFor(() => leftoverProcesses().length === 0, 15000, 'the core and the app to exit').catch(() => {});
    expect(leftoverProcesses()).to.deep.equal([]);
    expect(p.instanceDirs()).to.deep.equal([]);
  });
});
