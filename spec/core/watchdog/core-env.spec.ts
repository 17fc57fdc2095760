// The core's malloc settings: added for the core, left alone when the user
// set malloc up, and removed again before the core spawns apps.
import { expect } from 'chai';
import { coreEnvironment, dropCoreOnlyEnvironment } from '../../../core/watchdog/core-env.ts';

describe('watchdog: the environment of the core', function () {
  it('adds one malloc arena, then the core removes exactly what was added', () => {
    const env = coreEnvironment({ PATH: '/bin' });
    expect(env.MALLOC_ARENA_MAX).to.equal('1');
    dropCoreOnlyEnvironment(env);
    expect(env).to.deep.equal({ PATH: '/bin' });
  });

  it("keeps a user's own MALLOC_ARENA_MAX", () => {
    const env = coreEnvironment({ PATH: '/bin', MALLOC_ARENA_MAX: '4' });
    expect(env.MALLOC_ARENA_MAX).to.equal('4');
    dropCoreOnlyEnvironment(env);
    expect(env).to.deep.equal({ PATH: '/bin', MALLOC_ARENA_MAX: '4' });
  });

  it('leaves the environment as it is when GLIBC_TUNABLES is set', () => {
    const given = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
    expect(coreEnvironment(given)).to.equal(given);
  });
});
