// After a burst of requests the core's old generation holds their dead
// objects until V8 gets round to them; once the core has been idle a second,
// gc-pacer collects them. A real node process with --expose-gc (as the
// watchdog starts the core) and a WeakRef to see the collection.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dirname, '../../fixtures/gc-pacer/idle-collect.ts');

function run(requests: number, bodyMiB = 0): string {
  return execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, String(requests), String(bodyMiB)], { encoding: 'utf8', timeout: 20_000 }).trim();
}

describe('gc-pacer: a full collection once the core is idle', () => {
  it('collects dead objects a second after a burst of requests ended', () => {
    expect(run(500)).to.equal('collected');
  });

  it('does not collect after a handful of requests (a full GC costs more than it gives back)', () => {
    expect(run(10)).to.equal('kept');
    expect(run(10, 8)).to.equal('kept');
  });

  it('collects after a handful of requests that carried large bodies (64 MiB in all)', () => {
    expect(run(10, 80)).to.equal('collected');
  });
});
