// The memory cache of whole static files: an entry is its inode's contents
// while size, mtime and ctime stay as read, the least recently used go first
// when the cache is over its size, and a burst of misses reads a file once.
import { expect } from 'chai';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, utimesSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_CACHED_FILE, StaticFileCache } from '../../../../core/server/static/file-cache.ts';

describe('static files: the memory cache', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'psg-file-cache-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Opens `name`, loads it into `cache`, closes it; resolves with what load gave and the fstat it was read with. */
  function load(cache: StaticFileCache, name: string): Promise<{ body: Buffer | undefined; st: Stats }> {
    const fd = openSync(join(dir, name), 'r');
    const st = fstatSync(fd);
    return new Promise((resolve) => cache.load(fd, st, (body) => { closeSync(fd); resolve({ body, st }); }));
  }
  const statOf = (name: string) => { const fd = openSync(join(dir, name), 'r'); try { return fstatSync(fd); } finally { closeSync(fd); } };

  it('reads a file whole and answers it while the file is unchanged', async () => {
    writeFileSync(join(dir, 'a.txt'), 'first version');
    const cache = new StaticFileCache(1024);
    expect(cache.get(statOf('a.txt'))).to.equal(undefined);
    const { body } = await load(cache, 'a.txt');
    expect(body!.toString()).to.equal('first version');
    expect(cache.get(statOf('a.txt'))!.toString()).to.equal('first version');
    expect(cache.bytes).to.equal(13);
  });

  it('forgets an entry once the file changed, even at the same size and mtime (ctime moved)', async () => {
    writeFileSync(join(dir, 'b.txt'), 'aaaa');
    // Whole seconds, which utimes puts back exactly.
    utimesSync(join(dir, 'b.txt'), 1_000_000, 1_000_000);
    const cache = new StaticFileCache(1024);
    const { st } = await load(cache, 'b.txt');
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(join(dir, 'b.txt'), 'bbbb');
    utimesSync(join(dir, 'b.txt'), 1_000_000, 1_000_000);
    const now = statOf('b.txt');
    expect(now.mtimeMs).to.equal(st.mtimeMs);
    expect(cache.get(now)).to.equal(undefined);
    expect(cache.bytes).to.equal(0);
  });

  it('serves misses for a file being read from that one read: one copy in memory for a burst of requests', async () => {
    writeFileSync(join(dir, 'burst.js'), 'x'.repeat(100_000));
    const cache = new StaticFileCache(1024 * 1024);
    const bodies = (await Promise.all(Array.from({ length: 5 }, () => load(cache, 'burst.js')))).map((r) => r.body!);
    expect(bodies[0]!.length).to.equal(100_000);
    // The same buffer for all five: read once.
    for (const b of bodies) expect(b).to.equal(bodies[0]);
    expect(cache.bytes).to.equal(100_000);
    // A changed file is another version: read afresh, not joined to an old read.
    writeFileSync(join(dir, 'burst.js'), 'y'.repeat(100_000));
    const again = await load(cache, 'burst.js');
    expect(again.body!.toString('latin1', 0, 1)).to.equal('y');
  });

  it('drops the least recently used entries when over its size', async () => {
    for (const n of ['1', '2', '3']) writeFileSync(join(dir, `lru${n}`), Buffer.alloc(400, n));
    const cache = new StaticFileCache(1000);
    await load(cache, 'lru1');
    await load(cache, 'lru2');
    expect(cache.get(statOf('lru1'))).to.not.equal(undefined); // now the most recently used
    await load(cache, 'lru3');
    expect(cache.bytes).to.equal(800);
    expect(cache.get(statOf('lru2'))).to.equal(undefined);
    expect(cache.get(statOf('lru1'))![0]).to.equal('1'.charCodeAt(0));
    expect(cache.get(statOf('lru3'))![0]).to.equal('3'.charCodeAt(0));
  });

  it('admits files up to 2 MiB that fit in it, and nothing when its size is 0', () => {
    const sized = (size: number) => ({ size }) as Stats;
    expect(new StaticFileCache(64 << 20).admits(sized(MAX_CACHED_FILE))).to.equal(true);
    expect(new StaticFileCache(64 << 20).admits(sized(MAX_CACHED_FILE + 1))).to.equal(false);
    expect(new StaticFileCache(1000).admits(sized(1001))).to.equal(false);
    expect(new StaticFileCache(0).admits(sized(0))).to.equal(false);
  });
});
