// A 1 GiB upload (64 MiB in short mode) streamed from a generator, never held
// in memory on either side, under load: the app receives every byte (length
// and SHA-256 checked) and other clients are served meanwhile. For apps whose
// bodies are buffered, the core spools it to a file, so its RSS stays low.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Fault } from '../harness.ts';

const MIB = 1024 * 1024;

/** `mib` MiB of deterministic bytes, one MiB at a time, hashed on the way out. */
function* body(mib: number, hash: ReturnType<typeof createHash>): Generator<Buffer> {
  for (let i = 0; i < mib; i++) {
    const chunk = Buffer.alloc(MIB, i % 251);
    hash.update(chunk);
    yield chunk;
  }
}

function upload(port: number, mib: number): Promise<{ status: number; sent: string; answer: string }> {
  const hash = createHash('sha256');
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/sha256', headers: { 'content-length': mib * MIB }, agent: false }, (res) => {
      let answer = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { answer += c; });
      res.on('end', () => resolve({ status: res.statusCode!, sent: hash.digest('hex'), answer }));
    });
    req.on('error', reject);
    pipeline(Readable.from(body(mib, hash)), req).catch(reject);
  });
}

export const upload1g: Fault = {
  name: '1 GiB upload',
  description: 'POST 1 GiB (64 MiB short) streamed from a generator; the app hashes it',
  apps: ['node', 'rack'],
  async run(ctx) {
    const load = ctx.startLoad(4);
    const mib = ctx.mode === 'short' ? 64 : 1024;
    const started = Date.now();
    const r = await upload(ctx.server.port, mib);
    const got = JSON.parse(r.answer) as { bytes: number; sha256: string };
    ctx.note(`${mib} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s, status ${r.status}`);
    ctx.expect(r.status === 200 && got.bytes === mib * MIB && got.sha256 === r.sent, 'the app receives every byte (length and SHA-256)');
    ctx.expect(load.failed === 0, 'other clients are served (0 failures)');
    return load;
  },
};
