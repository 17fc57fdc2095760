// spawnProcess when the process never becomes ready: what the failure says
// about how it ended (node:child_process, no execa in between).
import { expect } from 'chai';
import { spawnProcess } from '../../../core/spawn/spawn-process.ts';
import { SpawnFailure } from '../../../core/spawn/spawn-failure.ts';
import type { SpawnCommand } from '../../../core/spawn/spawn-command.ts';
import { createLogger } from '../../../core/log/logger.ts';
import { makeApp, removeApps } from '../../support/tmp-app.ts';

const log = createLogger('error', () => {});

function command(over: Partial<SpawnCommand>): SpawnCommand {
  return {
    // The spec token lets the root hooks find a process left behind.
    command: '/bin/sh', args: [], cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PASSENGER_SPEC_TOKEN: process.env.PASSENGER_SPEC_TOKEN ?? '' }, handshake: {},
    readiness: { kind: 'handshake' }, user: 'me', startTimeoutMs: 5000, ...over,
  };
}

async function failureOf(cmd: SpawnCommand): Promise<SpawnFailure> {
  try { await spawnProcess(cmd, log, 'app'); } catch (e) { if (e instanceof SpawnFailure) return e; throw e; }
  throw new Error('expected the spawn to fail');
}

describe('spawnProcess failures', () => {
  afterEach(() => removeApps());

  it('says a missing command is missing or not executable, with no exit status', async () => {
    const f = await failureOf(command({ command: '/nonexistent/loader' }));
    expect(f.code).to.equal('PSG_ERR_SPAWN_FAILED');
    expect(f.failure.summary).to.equal('could not start /nonexistent/loader (/): it is missing or not executable');
    expect(f.failure.exit).to.deep.equal({ code: null, signal: null });
  });

  it('says the same of a file that is not executable', async () => {
    const dir = makeApp({ 'loader.sh': 'echo hi\n' });
    const f = await failureOf(command({ command: `${dir}/loader.sh`, cwd: dir }));
    expect(f.failure.summary).to.equal(`could not start ${dir}/loader.sh (${dir}): it is missing or not executable`);
  });

  it('gives the exit code and keeps the output of a process that exits before the handshake', async () => {
    const f = await failureOf(command({ args: ['-c', 'echo out; echo err >&2; exit 4'] }));
    expect(f.failure.summary).to.equal('the app exited with code 4 before the loader handshake');
    expect(f.failure.exit).to.deep.equal({ code: 4, signal: null });
    expect(f.failure.output).to.have.members(['out', 'err']);
  });

  it('gives the signal of a process killed before the handshake', async () => {
    const f = await failureOf(command({ args: ['-c', 'kill -9 $$'] }));
    expect(f.failure.summary).to.equal('the app was killed by SIGKILL before the loader handshake');
    expect(f.failure.exit).to.deep.equal({ code: null, signal: 'SIGKILL' });
  });
});
