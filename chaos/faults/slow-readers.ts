// Clients that ask for a large response and read nothing: the core reads the
// response as fast as the app writes it (memory, then a file), so the app's
// processes are free for other clients at once. The core's RSS peak shows
// what holding those responses costs.
import type { Fault } from '../harness.ts';
import { sleep, SERVED_WITHIN_MS } from '../harness.ts';
import { slowReader, tally } from '../raw-clients.ts';

export const slowReaders: Fault = {
  name: 'slow readers',
  description: 'clients request 16 MiB and read nothing for 5 s (short) or 15 s (8 short, 12 full)',
  apps: ['rack', 'node'],
  async run(ctx) {
    const load = ctx.startLoad(4, SERVED_WITHIN_MS);
    // Not more: 40 downloads of 64 MiB through a Rack app queue other requests behind them (25 were done
    // after 15 s on a 2-CPU VM) whether their clients read or not: that measures capacity, not slow readers.
    const n = ctx.mode === 'short' ? 8 : 12;
    const mb = 16;
    const readers = Promise.all(Array.from({ length: n }, () => slowReader(ctx.server.port, `/big?mb=${mb}`, ctx.seconds(5, 15))));
    await sleep(ctx.seconds(5, 15));
    const statuses = await readers;
    ctx.note(`slow readers got ${tally(statuses)}`);
    ctx.expect(load.failed === 0, 'other clients are served (0 failures)');
    return load;
  },
};
