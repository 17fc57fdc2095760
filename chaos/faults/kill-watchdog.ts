// kill -9 of the watchdog under load: the core and the apps notice and stop
// (no supervisor, no service), and the instance directory is removed. Every
// request after the kill fails: that is the figure to read, not a defect.
import type { Fault } from '../harness.ts';
import { alive, sleep } from '../harness.ts';

export const killWatchdog: Fault = {
  name: 'kill -9 watchdog',
  description: 'SIGKILL the watchdog (the server stops: core, apps and instance directory go)',
  apps: ['rack', 'node'],
  killsServer: true,
  async run(ctx) {
    const load = ctx.startLoad(4);
    await sleep(ctx.seconds(1.5, 5));
    const core = ctx.corePid()!;
    process.kill(ctx.server.child.pid!, 'SIGKILL');
    const deadline = Date.now() + 10000;
    while (alive(core) && Date.now() < deadline) await sleep(100);
    ctx.expect(!alive(core), 'the core exits within 10 s of its watchdog');
    await sleep(1000);
    return load;
  },
};
