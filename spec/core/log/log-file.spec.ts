// The log file writer: appends, reopens after a rename without losing a line,
// and (run as root, as the specs are) refuses symbolic links and directories
// another user could change.
import { expect } from 'chai';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLogWriter, reopenLogWriters } from '../../../core/log/log-file.ts';
import { lookupUser } from '../../../core/spawn/user-switch.ts';

describe('log files', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'psg-logfile-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends lines in batches and, reopened after a rename, writes the next ones to a new file', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, 'kept\n');
    const w = openLogWriter('a.log', 'access_log', dir);
    w.write('one');
    w.write('two');
    renameSync(path, `${path}.1`);
    w.write('three'); // still pending: reopen writes it to the renamed file first
    reopenLogWriters();
    w.write('four');
    w.flush();
    expect(readFileSync(`${path}.1`, 'utf8')).to.equal('kept\none\ntwo\nthree\n');
    expect(readFileSync(path, 'utf8')).to.equal('four\n');
    w.close();
  });

  it('writes a batch 100 ms after its first line, not at the next turn of the event loop', async () => {
    const path = join(dir, 'b.log');
    const w = openLogWriter(path, 'access_log');
    w.write('first');
    // Once per turn of the event loop, as before, meant a write(2) for every few requests under load.
    await new Promise((r) => setImmediate(r));
    expect(readFileSync(path, 'utf8')).to.equal('');
    w.write('second');
    const deadline = Date.now() + 1000;
    while (readFileSync(path, 'utf8') === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(readFileSync(path, 'utf8')).to.equal('first\nsecond\n');
    w.close();
  });

  it('writes a full batch at once, and long and non-ASCII lines whole and in order', () => {
    const path = join(dir, 'c.log');
    const w = openLogWriter(path, 'access_log');
    const lines = ['été ✓ 𝄞', 'x'.repeat(1000), 'é'.repeat(40_000), 'short', '✓'.repeat(30_000), 'end'];
    for (let i = 0; i < 70; i++) lines.push(`line ${i} ${'y'.repeat(1000)}`);
    for (const line of lines) w.write(line);
    // Over 64 KiB were written: most of it is in the file without a flush.
    expect(readFileSync(path).length).to.be.greaterThan(64 * 1024);
    w.flush();
    expect(readFileSync(path, 'utf8')).to.equal(lines.map((l) => `${l}\n`).join(''));
    w.close();
  });

  it('refuses a symbolic link', () => {
    writeFileSync(join(dir, 'target'), '');
    symlinkSync(join(dir, 'target'), join(dir, 'link.log'));
    expect(() => openLogWriter(join(dir, 'link.log'), 'log_file')).to.throw(/log_file: cannot open \S+link\.log for appending: it is a symbolic link/);
  });

  it('as root (the specs run as root), refuses a directory another user controls', () => {
    const theirs = join(dir, 'theirs');
    mkdirSync(theirs);
    const nobody = lookupUser('nobody')!;
    chownSync(theirs, nobody.uid, nobody.gid);
    let err: (Error & { code?: string }) | undefined;
    try { openLogWriter(join(theirs, 'x.log'), 'app_log_file'); } catch (e) { err = e as Error & { code?: string }; }
    expect(err?.code).to.equal('PSG_ERR_CONFIG_UNSAFE_PATH');
    expect(err?.message).to.match(/app_log_file: the server runs as root and will not write \S+x\.log: nobody \(uid \d+\) can change it/);
  });
});
