// `passenger status --watch`: the live view in the terminal, redrawn in
// place, that quits on q.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { cliEntry, fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

describe('passenger status --watch', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });

  it('redraws the pool in place until q', async () => {
    p = await startPassenger(fixtureApp('rack-pool'));
    const pid = (await (await fetch(`${p.url}/`)).text()).split(' ')[0]!;
    const watch = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'status', '--watch', '--instance-registry-dir', p.registryDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    watch.stdout.on('data', (d) => { out += d; });
    watch.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => watch.on('exit', (code) => r(code)));
    const killer = setTimeout(() => watch.kill('SIGKILL'), 30000);
    try {
      const frames = () => out.split('\x1b[H\x1b[2J').length - 1;
      for (const until = Date.now() + 20000; frames() < 2 && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
      expect(frames()).to.be.at.least(2);
      const last = out.slice(out.lastIndexOf('\x1b[H\x1b[2J'));
      expect(last).to.match(new RegExp(`\\b${pid}\\s+enabled\\s+0/1\\s+1\\b`));
      expect(last).to.match(/q or Ctrl-C to quit/);
      watch.stdin.write('q');
      expect(await exited).to.equal(0);
      expect(out.endsWith('\x1b[?25h\n')).to.equal(true);
    } finally {
      clearTimeout(killer);
    }
  });

  it('refuses --watch with --json', async () => {
    p = await startPassenger(fixtureApp('rack-pool'));
    const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'status', '--watch', '--json', '--instance-registry-dir', p.registryDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).to.equal(2);
    expect(err).to.match(/--json or --watch, not both/);
  });
});
