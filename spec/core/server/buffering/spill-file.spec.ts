// The spill file (core/server/buffering/spill-file.ts) on a real directory:
// with a write batch, appends are written together (once the batch is full,
// after a short delay, or at flush), which is what makes a buffered upload
// cost a few writes instead of one per read; and what comes back is what
// went in, in reads of the size asked for.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpillFile } from '../../../../core/server/buffering/spill-file.ts';

const KIB = 1024;
const pattern = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed + (i >> 10)) & 0xff));

/** Resolves at the file's next completed write, with the bytes on disk then. */
function nextWrite(file: SpillFile): Promise<number> {
  return new Promise((resolve) => file.onProgress(() => resolve(file.written)));
}

function readAll(file: SpillFile, readSize: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  const stream = file.readable(readSize);
  return new Promise((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(chunks));
    stream.on('error', reject);
  });
}

/** Whether the directory became empty within a second (remove() unlinks asynchronously). */
async function emptied(dir: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (readdirSync(dir).length === 0) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

describe('SpillFile', () => {
  let dir: string;
  let file: SpillFile | undefined;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'spill-spec-')); });
  afterEach(() => {
    file?.remove();
    file = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each appended buffer back once its write completed, not before', async () => {
    const back: Buffer[] = [];
    file = new SpillFile(dir, 'request', { writeBatchBytes: 512 * KIB, recycle: (b) => back.push(b) });
    const appended = [pattern(300 * KIB, 1), pattern(300 * KIB, 2), pattern(10 * KIB, 3)];
    for (const b of appended) file.append(b);
    // Queued for the batch: still the file's.
    expect(back).to.have.length(0);
    file.flush();
    while (file.pending > 0) await nextWrite(file);
    // Each came back once, in order, the same buffer.
    expect(back).to.have.length(3);
    back.forEach((b, i) => expect(b).to.equal(appended[i]));
    expect(file.written).to.equal(610 * KIB);
  });

  for (const [batch, firstWrite, what] of [
    [512 * KIB, 200 * KIB, 'together, not one write each'],
    [0, 100 * KIB, 'each at once without a batch'],
  ] as const) {
    it(`writes two appends 5 ms apart ${what}`, async () => {
      file = new SpillFile(dir, 'request', { writeBatchBytes: batch });
      const written = nextWrite(file);
      file.append(pattern(100 * KIB, 1));
      // Before a batch's delay (20 ms) ends: both go out in its one write.
      await new Promise((r) => setTimeout(r, 5));
      file.append(pattern(100 * KIB, 2));
      expect(await written).to.equal(firstWrite);
    });
  }

  it('writes a full batch at once, and what is queued at flush()', async () => {
    file = new SpillFile(dir, 'request', { writeBatchBytes: 512 * KIB });
    let written = nextWrite(file);
    file.append(pattern(300 * KIB, 3));
    file.append(pattern(300 * KIB, 4));
    expect(await written).to.equal(600 * KIB);
    written = nextWrite(file);
    file.append(pattern(10 * KIB, 5));
    file.flush();
    expect(await written).to.equal(610 * KIB);
  });

  it('reads back every byte in order, in reads of at most the size asked for, and removes its file', async () => {
    file = new SpillFile(dir, 'request', { writeBatchBytes: 512 * KIB });
    const parts = [pattern(64 * KIB, 8), pattern(700 * KIB + 5, 9), pattern(1, 10), pattern(333 * KIB, 11)];
    const total = parts.reduce((n, p) => n + p.length, 0);
    for (const p of parts) file.append(p);
    file.flush();
    while (file.written < total) await nextWrite(file);
    const chunks = await readAll(file, 512 * KIB);
    expect(Buffer.concat(chunks).equals(Buffer.concat(parts))).to.equal(true);
    expect(chunks.every((c) => c.length <= 512 * KIB)).to.equal(true);
    expect(chunks.length).to.equal(Math.ceil(total / (512 * KIB)));
    expect(readdirSync(dir)).to.have.length(1);
    file.remove();
    expect(await emptied(dir)).to.equal(true);
  });

  it('drops what is still queued when removed before its delay ended', async () => {
    file = new SpillFile(dir, 'request', { writeBatchBytes: 512 * KIB });
    let wrote = false;
    file.onProgress(() => { wrote = true; });
    file.append(pattern(10 * KIB, 12));
    file.remove();
    await new Promise((r) => setTimeout(r, 60));
    expect(wrote).to.equal(false);
    expect(await emptied(dir)).to.equal(true);
  });
});
