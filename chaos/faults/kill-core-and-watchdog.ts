// kill -9 of the watchdog and the core at the same instant (both frozen first,
// so neither can clean up after the other): no app process or preloader may
// survive them. The harness's leftover count is the figure. The instance
// directory stays (nothing is left alive to remove it) until the next server
// started on the same registry removes it (core/instance/stale-instances.ts).
import type { Fault } from '../harness.ts';
import { sleep } from '../harness.ts';

export const killCoreAndWatchdog: Fault = {
  name: 'kill -9 core + watchdog',
  description: 'SIGSTOP then SIGKILL the watchdog and the core together',
  apps: ['node', 'rack', 'wsgi'],
  killsServer: true,
  leavesInstanceDir: true,
  async run(ctx) {
    const load = ctx.startLoad(4);
    await sleep(ctx.seconds(1.5, 5));
    const watchdog = ctx.server.child.pid!;
    const core = ctx.corePid()!;
    ctx.note(`${(await ctx.poolPids()).length} app processes running`);
    process.kill(watchdog, 'SIGSTOP');
    process.kill(core, 'SIGSTOP');
    process.kill(watchdog, 'SIGKILL');
    process.kill(core, 'SIGKILL');
    await sleep(1500);
    return load;
  },
};
