// Paths that named no file: remembered for a second, never more than a bound.
import { expect } from 'chai';
import { MISSED_PATHS_MAX, MISSED_PATH_TTL_MS, MissedPaths } from '../../../../core/server/static/missed-paths.ts';

describe('MissedPaths', () => {
  it('remembers a path for the TTL, then forgets it', () => {
    const m = new MissedPaths();
    m.add('a', 1000);
    expect(m.has('a', 1000)).to.equal(true);
    expect(m.has('a', 1000 + MISSED_PATH_TTL_MS - 1)).to.equal(true);
    expect(m.has('b', 1000)).to.equal(false);
    expect(m.has('a', 1000 + MISSED_PATH_TTL_MS)).to.equal(false);
    expect(m.size).to.equal(0);
  });

  it('drops expired entries as new ones come', () => {
    const m = new MissedPaths();
    for (let i = 0; i < 100; i++) m.add(`old${i}`, 0);
    m.add('new', MISSED_PATH_TTL_MS + 1);
    expect(m.size).to.equal(1);
    expect(m.has('new', MISSED_PATH_TTL_MS + 1)).to.equal(true);
  });

  it('keeps at most MISSED_PATHS_MAX paths, the oldest leaving first', () => {
    const m = new MissedPaths();
    for (let i = 0; i < MISSED_PATHS_MAX + 10; i++) m.add(`p${i}`, 5);
    expect(m.size).to.equal(MISSED_PATHS_MAX);
    expect(m.has('p0', 5)).to.equal(false);
    expect(m.has('p9', 5)).to.equal(false);
    expect(m.has('p10', 5)).to.equal(true);
    expect(m.has(`p${MISSED_PATHS_MAX + 9}`, 5)).to.equal(true);
  });

  it('re-adding a path restarts its second', () => {
    const m = new MissedPaths();
    m.add('a', 0);
    expect(m.has('a', MISSED_PATH_TTL_MS)).to.equal(false);
    m.add('a', MISSED_PATH_TTL_MS);
    expect(m.has('a', 2 * MISSED_PATH_TTL_MS - 1)).to.equal(true);
  });
});
