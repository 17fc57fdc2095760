// isAlive: a process counts as alive until it exits, not until it is reaped.
// (A process being reaped shows as X for a moment; that race cannot be forced
// here, the zombie it comes from can.)
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { isAlive } from '../../../core/spawn/kill.ts';

describe('isAlive', () => {
  it('is true for a running process and false for a zombie no one reaps, and for no process at all', async function () {
    this.timeout(10_000);
    // The background sleep's parent becomes `sleep 5` (exec), which never waits for it: a zombie once it ends.
    const shell = spawn('/bin/sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => shell.stdout.once('data', (d: Buffer) => resolve(d.toString()))));
      expect(isAlive(pid)).to.equal(true);
      await new Promise((r) => setTimeout(r, 600));
      expect(process.kill(pid, 0)).to.equal(true); // still there for kill(0)…
      expect(isAlive(pid)).to.equal(false); // …but exited
      expect(isAlive(shell.pid!)).to.equal(true);
    } finally {
      shell.kill('SIGKILL');
    }
    await new Promise((r) => shell.once('exit', r));
    expect(isAlive(shell.pid!)).to.equal(false);
  });
});
