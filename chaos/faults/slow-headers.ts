// Clients that send a request head one byte every half second (slowloris):
// they get 408 after client_header_timeout (3 s here), and other clients are
// served all along.
import type { Fault } from '../harness.ts';
import { sleep, SERVED_WITHIN_MS } from '../harness.ts';
import { tally, trickle } from '../raw-clients.ts';

export const slowHeaders: Fault = {
  name: 'slow headers',
  description: 'clients trickle a request head, 1 byte per 500 ms (20 short, 200 full)',
  apps: ['node', 'rack'],
  async run(ctx) {
    const load = ctx.startLoad(4, SERVED_WITHIN_MS);
    const n = ctx.mode === 'short' ? 20 : 200;
    const slow = Promise.all(Array.from({ length: n }, () => trickle(ctx.server.port, 'GET / HTTP/1.1\r\nHost: chaos\r\n', 'X-Slow: 1\r\n', 500, ctx.seconds(6, 15))));
    await sleep(ctx.seconds(6, 15));
    const statuses = await slow;
    ctx.note(`slow clients got ${tally(statuses)}`);
    ctx.expect(statuses.every((s) => s === 408), 'every slow head gets 408');
    ctx.expect(load.failed === 0, 'other clients are served (0 failures)');
    return load;
  },
};
