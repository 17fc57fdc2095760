// The pool's invariants (core/pool/invariants.ts) hold for a sound group and
// name each broken one, so that the scheduling specs, which check them after
// every step, fail on a state the pool must never reach.
import { expect } from 'chai';
import { assertGroupInvariants, groupInvariantViolations, type GroupState, type ProcessState } from '../../../core/pool/invariants.ts';

const proc = (over: Partial<ProcessState> = {}): ProcessState => ({
  pid: 101, enabled: 'enabled', life: 'alive', sessions: 0, concurrency: 1, retireReason: undefined, ...over,
});

const state = (over: Partial<GroupState> = {}): GroupState => ({
  name: 'app', processes: [proc()], queueLength: 0, spawning: 0, openSessions: 0, routable: undefined, ...over,
});

describe('pool invariants', () => {
  it('hold for a sound group: busy, idle, retiring and stopping processes, a queue with no free slot', () => {
    const s = state({
      processes: [
        proc({ pid: 1, sessions: 1 }),
        proc({ pid: 2, enabled: 'disabling', retireReason: 'restart', sessions: 1 }),
        proc({ pid: 3, enabled: 'disabled', retireReason: 'idle', life: 'shutdownTriggered' }),
      ],
      queueLength: 2, spawning: 1, openSessions: 3,
    });
    expect(groupInvariantViolations(s)).to.deep.equal([]);
    expect(() => assertGroupInvariants(s)).not.to.throw();
  });

  const broken: [string, Partial<GroupState>, RegExp][] = [
    ['a request queued while a process has a free slot', { queueLength: 1, routable: proc() }, /queued while process 101 has a free slot/],
    ['two spawns at once', { spawning: 2 }, /2 spawns at once/],
    ['a process listed twice', { processes: [proc(), proc()] }, /listed twice/],
    ['a detached process still listed', { processes: [proc({ enabled: 'detached', retireReason: 'crash', life: 'shutdownTriggered' })] }, /detached but still listed/],
    ['an exited process still listed', { processes: [proc({ life: 'dead' })] }, /exited but is still listed/],
    ['more sessions than the concurrency', { processes: [proc({ sessions: 2 })], openSessions: 2 }, /more sessions than its concurrency 1/],
    ['a negative session count', { processes: [proc({ sessions: -1 })] }, /impossible session count/],
    ['a session released twice', { processes: [proc({ sessions: 1 })], openSessions: 0 }, /released twice/],
    ['a retired process without a reason', { processes: [proc({ enabled: 'disabling', sessions: 1 })], openSessions: 1 }, /no retire reason/],
    ['an enabled process with a retire reason', { processes: [proc({ retireReason: 'idle' })] }, /enabled but has a retire reason/],
    ['an idle retired process never told to stop', { processes: [proc({ enabled: 'disabled', retireReason: 'evicted' })] }, /idle and retired but was not told to stop/],
  ];
  for (const [what, over, message] of broken) {
    it(`catch ${what}`, () => {
      expect(groupInvariantViolations(state(over)).join('\n')).to.match(message);
      expect(() => assertGroupInvariants(state(over))).to.throw(/pool invariants broken/);
    });
  }
});
