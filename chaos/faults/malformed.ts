// The hostile-request corpus (spec/fixtures/hostile-requests/) and random
// bytes, each on its own connection, under load: every corpus case gets its
// documented status, random bytes get an answer or a close (never a hang),
// the core stays the same process and other clients are served.
import { randomBytes } from 'node:crypto';
import type { Fault } from '../harness.ts';
import { firstStatus, loadHostileRequests, sendRaw } from '../../spec/support/hostile-requests.ts';

export const malformed: Fault = {
  name: 'malformed requests',
  description: 'the hostile-request corpus (1 round short, 5 full) and 50 (500) random byte strings',
  apps: ['rack', 'node'],
  async run(ctx) {
    const load = ctx.startLoad(4);
    const core = ctx.corePid();
    const corpus = loadHostileRequests();
    const wrong: string[] = [];
    const rounds = ctx.mode === 'short' ? 1 : 5;
    for (let r = 0; r < rounds; r++) {
      for (const c of corpus) {
        const status = firstStatus(await sendRaw(ctx.server.port, c.bytes, 2000));
        if (status !== c.status) wrong.push(`${c.name}: ${status ?? 'none'} (expected ${c.status})`);
      }
    }
    let unanswered = 0;
    const random = ctx.mode === 'short' ? 50 : 500;
    for (let i = 0; i < random; i++) {
      // Half start like a request, so the bytes get past the request line more often.
      const noise = randomBytes(1 + (i * 37) % 400);
      const bytes = i % 2 === 0 ? Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n'), noise, Buffer.from('\r\n\r\n')]) : noise;
      const answer = await sendRaw(ctx.server.port, bytes, 2000);
      if (firstStatus(answer) === undefined && answer !== '') unanswered++;
    }
    ctx.note(`${corpus.length * rounds} corpus requests, ${wrong.length} with another status; ${random} random, ${unanswered} answered with something not HTTP`);
    ctx.expect(wrong.length === 0, `every corpus case gets its status (${wrong.slice(0, 3).join(', ')})`);
    ctx.expect(unanswered === 0, 'random bytes get an HTTP answer or a close');
    ctx.expect(ctx.corePid() === core, 'the core is the same process');
    ctx.expect(load.failed === 0, 'other clients are served (0 failures)');
    return load;
  },
};
