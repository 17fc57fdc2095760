// The SCGI body stream (core/server/scgi/body-stream.ts) on real loopback
// sockets that read into the shared buffer, as the SCGI server's do: every
// byte of CONTENT_LENGTH arrives in order (the bytes after it are not the
// body's), a reader that gives its chunks back runs through a few reused
// buffers, and a connection that closes early fails the body.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { scgiBodyStream } from '../../../../core/server/scgi/body-stream.ts';
import { readIntoSharedBuffer } from '../../../../core/server/shared-read-buffer.ts';
import type { RecyclableChunks } from '../../../../core/server/front.ts';
import { loopbackPair, type LoopbackPair } from '../../../support/loopback-pair.ts';

/** A loopback connection whose accepted side reads as the SCGI server's do. */
async function pair(): Promise<LoopbackPair> {
  const p = await loopbackPair();
  expect(readIntoSharedBuffer(p.serverSide)).to.equal(true);
  // As the SCGI server leaves it once the head is parsed: paused until the body is read.
  p.serverSide.pause();
  return p;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Reads the body whole, giving every chunk back at once; also the memory of each chunk of 4 KiB or more. */
function readAll(body: Readable & Partial<RecyclableChunks>): Promise<{ bytes: Buffer; memory: ArrayBufferLike[] }> {
  const chunks: Buffer[] = [];
  const memory: ArrayBufferLike[] = [];
  return new Promise((resolve, reject) => {
    body.on('data', (c: Buffer) => {
      if (c.length >= 4096) memory.push(c.buffer);
      chunks.push(Buffer.from(c));
      body.recycle?.(c);
    });
    body.on('end', () => resolve({ bytes: Buffer.concat(chunks), memory }));
    body.on('close', () => { if (!body.readableEnded) reject(body.errored ?? new Error('closed early')); });
  });
}

describe('the SCGI body stream', () => {
  let p: Awaited<ReturnType<typeof pair>> | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('gives exactly CONTENT_LENGTH bytes in order, through a few reused buffers', async () => {
    p = await pair();
    const data = randomBytes(8 * 1024 * 1024);
    const first = data.subarray(0, 1000);
    const body = scgiBodyStream(p.serverSide, Buffer.from(first), data.length);
    const read = readAll(body);
    p.client.write(data.subarray(1000));
    p.client.write('not the body');
    const { bytes, memory } = await read;
    expect(sha256(bytes)).to.equal(sha256(data));
    // A fresh buffer per read would give one memory per chunk.
    expect(memory.length).to.be.greaterThan(50);
    expect(new Set(memory).size).to.be.at.most(4);
  });

  it('fails the body when the connection closes before all of it came', async () => {
    p = await pair();
    const body = scgiBodyStream(p.serverSide, Buffer.alloc(0), 1_000_000);
    const read = readAll(body);
    p.client.end(Buffer.alloc(100_000, 1));
    let error: unknown;
    await read.catch((e: unknown) => { error = e; });
    expect(String(error)).to.match(/the client went away with 900000 body bytes unsent/);
  });
});
