// The body pump (core/protocols/body-pump.ts) moving a buffered body, read
// back from its spill file, into a real Unix socket whose reader is slow at
// first: every byte arrives in order, and the read buffers are given back
// and reused once written, so a 6 MiB body needs a handful of them, not
// one fresh buffer per read.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BodyPump } from '../../../core/protocols/body-pump.ts';
import { SpillFile } from '../../../core/server/buffering/spill-file.ts';

const KIB = 1024;
const READ_SIZE = 512 * KIB;

async function spilled(dir: string, body: Buffer): Promise<SpillFile> {
  const file = new SpillFile(dir, 'request', { writeBatchBytes: READ_SIZE });
  for (let i = 0; i < body.length; i += 100 * KIB) file.append(body.subarray(i, i + 100 * KIB));
  file.flush();
  while (file.written < body.length) await new Promise<void>((r) => file.onProgress(r));
  return file;
}

describe('BodyPump', () => {
  let dir: string;
  let server: net.Server | undefined;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'pump-spec-')); });
  afterEach(async () => {
    if (server) await new Promise((r) => server!.close(r));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  for (const chunked of [false, true]) {
    it(`sends a body read back from its file whole and in order${chunked ? ' (chunked)' : ''}, reusing its read buffers`, async () => {
      const body = Buffer.from(Array.from({ length: 6 * 1024 * KIB + 77 }, (_, i) => (i * 13 + (i >> 12)) & 0xff));
      const file = await spilled(dir, body);
      const received: Buffer[] = [];
      let accepted!: (s: net.Socket) => void;
      const serverSide = new Promise<net.Socket>((r) => { accepted = r; });
      server = net.createServer(accepted);
      const path = join(dir, 'pump.sock');
      await new Promise<void>((r) => server!.listen(path, r));
      const sock = net.connect(path);
      const reader = await serverSide;
      // Slow at first: the pump's writes back up and it has to wait for drains.
      reader.pause();
      setTimeout(() => reader.resume(), 200);
      reader.on('data', (c: Buffer) => received.push(c));
      const ended = new Promise<void>((r) => reader.on('end', r));

      const stream = file.readable(READ_SIZE);
      const buffers = new Set<ArrayBufferLike>();
      stream.on('data', (c: Buffer) => buffers.add(c.buffer));
      const settled = new Promise<boolean>((r) => new BodyPump(stream, sock, { chunked, endSocket: true }, r));
      expect(await settled).to.equal(true);
      await ended;
      sock.destroy();
      file.remove();

      const got = Buffer.concat(received);
      const expected = chunked ? chunkedFraming(got) : got;
      expect(createHash('sha256').update(expected).digest('hex')).to.equal(createHash('sha256').update(body).digest('hex'));
      // 13 reads of up to 512 KiB; without reuse, each one a fresh buffer.
      expect(buffers.size).to.be.at.most(4);
    });
  }
});

/** The body inside HTTP/1.1 chunks (the pump's framing), checked as it is taken apart. */
function chunkedFraming(wire: Buffer): Buffer {
  const parts: Buffer[] = [];
  let p = 0;
  for (;;) {
    const eol = wire.indexOf('\r\n', p);
    const size = parseInt(wire.toString('latin1', p, eol), 16);
    p = eol + 2;
    if (size === 0) {
      expect(wire.toString('latin1', p)).to.equal('\r\n');
      return Buffer.concat(parts);
    }
    parts.push(wire.subarray(p, p + size));
    p += size;
    expect(wire.toString('latin1', p, p + 2)).to.equal('\r\n');
    p += 2;
  }
}
