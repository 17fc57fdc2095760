// Clients that announce a 1 MB body and send one byte every half second: the
// core buffers bodies for apps of limited concurrency, so they never hold a
// process, and other clients are served all along. (They make progress, so
// client_body_timeout does not cut them off: they are still trickling when
// they give up, hence "none" as their status.)
import type { Fault } from '../harness.ts';
import { sleep, SERVED_WITHIN_MS } from '../harness.ts';
import { tally, trickle } from '../raw-clients.ts';

export const slowBodies: Fault = {
  name: 'slow bodies',
  description: 'clients announce a 1 MB body and send 1 byte per 500 ms (8 short, 50 full)',
  apps: ['rack', 'wsgi', 'node'],
  async run(ctx) {
    const load = ctx.startLoad(4, SERVED_WITHIN_MS);
    const n = ctx.mode === 'short' ? 8 : 50;
    const head = 'POST /sha256 HTTP/1.1\r\nHost: chaos\r\nContent-Length: 1000000\r\n\r\n';
    const slow = Promise.all(Array.from({ length: n }, () => trickle(ctx.server.port, head, 'x', 500, ctx.seconds(5, 15))));
    await sleep(ctx.seconds(5, 15));
    const statuses = await slow;
    ctx.note(`slow bodies got ${tally(statuses)} while they trickled`);
    ctx.expect(load.failed === 0, 'other clients are served (0 failures)');
    return load;
  },
};
