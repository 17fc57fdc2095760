// kill -9 of one app process under load: the pool replaces it; only the
// requests that process had in flight may fail.
import type { Fault } from '../harness.ts';
import { sleep } from '../harness.ts';

export const killApp: Fault = {
  name: 'kill -9 app process',
  description: 'SIGKILL one of the app\'s processes in the middle of the load',
  apps: ['rack', 'node', 'wsgi'],
  async run(ctx) {
    const clients = 4;
    const load = ctx.startLoad(clients);
    await sleep(ctx.seconds(1.5, 5));
    const before = await ctx.poolPids();
    const victim = before[0]!;
    const core = ctx.corePid();
    process.kill(victim, 'SIGKILL');
    ctx.note(`killed pid ${victim} of ${before.length}`);
    await sleep(ctx.seconds(3, 10));
    const failedBefore = load.failed;
    ctx.expect(ctx.corePid() === core, 'the core is the same process');
    ctx.expect(load.failed <= clients, `at most the ${clients} requests in flight fail (failed ${failedBefore})`);
    ctx.expect(!(await ctx.poolPids()).includes(victim), 'the killed process left the pool');
    return load;
  },
};
