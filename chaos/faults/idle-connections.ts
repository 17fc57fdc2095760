// 2000 connections that send nothing, held open under load: they cost the
// core a socket each and must not stop anyone else being served.
import type { Fault } from '../harness.ts';
import { sleep, SERVED_WITHIN_MS } from '../harness.ts';
import { idleConnections } from '../raw-clients.ts';

export const idleConnectionsFault: Fault = {
  name: '2000 idle connections',
  description: 'open 2000 connections that send nothing and hold them',
  apps: ['node', 'rack'],
  async run(ctx) {
    const load = ctx.startLoad(4, SERVED_WITHIN_MS);
    const idle = await idleConnections(ctx.server.port, 2000);
    await sleep(ctx.seconds(5, 15));
    ctx.note(`${idle.sockets.length} connected, ${idle.refused} refused, ${idle.closedByServer()} closed by the server (client_header_timeout)`);
    for (const s of idle.sockets) s.destroy();
    ctx.expect(idle.refused === 0, 'every idle connection is accepted');
    ctx.expect(load.failed === 0, 'other clients are served (0 failures)');
    return load;
  },
};
