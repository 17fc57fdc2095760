// Clients that ask for a large response and read nothing: the core reads the
// response as fast as the app writes it (memory, then a file), so the app's
// processes are free for other clients at once. The core's RSS peak shows
// what holding those responses costs.
import type { Fault } from '../harness.ts';
import { sleep, SERVED_WITHIN_MS } from '../harness.ts';
import { slowReader, tally } from '../raw-clients.ts';

export const slowReaders: Fault = {
  name: 'slow readers',
  description: 'clients request 16 MiB (64 MiB full) and read nothing (8 short, 40 full)',
  apps: ['rack', 'node'],
  async run(ctx) {
    const load = ctx.startLoad(4, SERVED_WITHIN_MS);
    const n = ctx.mode === 'short' ? 8 : 40;
    const mb = ctx.mode === 'short' ? 16 : 64;
    const readers = Promise.all(Array.from({ length: n }, () => slowReader(ctx.server.port, `/big?mb=${mb}`, ctx.seconds(5, 15))));
    await sleep(ctx.seconds(5, 15));
    const statuses = await readers;
    ctx.note(`slow readers got ${tally(statuses)}`);
    ctx.expect(load.failed === 0, 'other clients are served (0 failures)');
    return load;
  },
};
