// Accepted sockets that read into the shared buffer (core/server/shared-read-buffer.ts)
// on real loopback connections: the bytes arrive whole and in order, however
// large; pause() stops the reads (the client's writes back up) and resume()
// brings the rest; the end still comes; and each chunk is a copy that the
// next read does not overwrite. A consumer may take the reads straight
// from the socket (views of the shared buffer, which it copies), and give
// them back to its stream.
import { expect } from 'chai';
import { readIntoSharedBuffer, readIntoStream } from '../../../core/server/shared-read-buffer.ts';
import { loopbackPair, type LoopbackPair } from '../../support/loopback-pair.ts';

/** A loopback connection whose accepted side reads into the shared buffer. */
async function pair(consume?: (view: Buffer) => void): Promise<LoopbackPair & { switched: boolean }> {
  const p = await loopbackPair();
  return { ...p, switched: readIntoSharedBuffer(p.serverSide, consume) };
}

const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 9)) & 0xff));

describe('reading accepted sockets into the shared buffer', () => {
  let p: Awaited<ReturnType<typeof pair>> | undefined;
  afterEach(async () => {
    await p?.close();
    p = undefined;
  });

  it('is possible on this node, once per socket', async () => {
    p = await pair();
    expect(p.switched).to.equal(true);
    expect(readIntoSharedBuffer(p.serverSide)).to.equal(false);
  });

  it('delivers every byte in order, in chunks that stay as they were, and then the end', async () => {
    p = await pair();
    const sent = pattern(3 * 1024 * 1024 + 123);
    const chunks: Buffer[] = [];
    p.serverSide.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((r) => p!.serverSide.on('end', r));
    p.client.end(sent);
    await ended;
    // Every read went through the one shared buffer: had a chunk been a view of it, the bytes would differ.
    expect(chunks.length).to.be.greaterThan(1);
    expect(Buffer.concat(chunks).equals(sent)).to.equal(true);
  });

  it('stops reading while paused and reads the rest on resume', async () => {
    p = await pair();
    let received = 0;
    p.serverSide.pause();
    p.serverSide.on('data', (c: Buffer) => { received += c.length; });
    const total = 32 * 1024 * 1024;
    const flushed = p.client.write(Buffer.alloc(total, 'p'));
    await new Promise((r) => setTimeout(r, 300));
    // Nothing read while paused: the kernel's buffers fill and the client's write backs up.
    expect(received).to.equal(0);
    expect(flushed).to.equal(false);
    expect(p.client.writableLength).to.be.greaterThan(0);
    p.serverSide.resume();
    const deadline = Date.now() + 10_000;
    while (received < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(received).to.equal(total);
  });

  it('with a consumer, gives it every read instead of \'data\', holds reads while paused, and gives them back to the stream on request', async () => {
    const direct: Buffer[] = [];
    const viaData: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    p = await pair((view) => { memory.add(view.buffer); direct.push(Buffer.from(view)); });
    const socket = p.serverSide;
    socket.on('data', (c: Buffer) => viaData.push(c));
    const ended = new Promise((r) => socket.on('end', r));
    const first = pattern(200_000);
    p.client.write(first);
    const deadline = Date.now() + 5_000;
    while (Buffer.concat(direct).length < first.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(Buffer.concat(direct).equals(first)).to.equal(true);
    expect(viaData).to.have.length(0);
    // Every read was a view of the one shared buffer: no allocation per read.
    expect(direct.length).to.be.greaterThan(1);
    expect(memory.size).to.equal(1);
    socket.pause();
    p.client.write('held');
    await new Promise((r) => setTimeout(r, 100));
    expect(Buffer.concat(direct).length).to.equal(first.length);
    readIntoStream(socket);
    socket.resume();
    p.client.end('!');
    await ended;
    expect(Buffer.concat(direct).length).to.equal(first.length);
    expect(Buffer.concat(viaData).toString()).to.equal('held!');
  });
});
