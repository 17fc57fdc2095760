// kill -9 of the core under load: the watchdog starts a new core on the same
// listening socket; requests in flight on the dead core's connections fail,
// new connections wait for the new core instead of being refused.
import type { Fault } from '../harness.ts';
import { sleep } from '../harness.ts';

export const killCore: Fault = {
  name: 'kill -9 core',
  description: 'SIGKILL the core (the watchdog restarts it)',
  apps: ['node', 'rack'],
  async run(ctx) {
    const clients = 4;
    // In CI (short mode) a client waits up to 15 s: on a loaded machine the new core may take longer than 5 s to
    // serve, and connections that wait for it are the behaviour under test, not a failure.
    const load = ctx.startLoad(clients, ctx.mode === 'short' ? 15000 : 5000);
    await sleep(ctx.seconds(1.5, 5));
    const core = ctx.corePid()!;
    const killedAt = Date.now();
    process.kill(core, 'SIGKILL');
    await ctx.server.waitForOutput(/core restarted \(pid \d+\) and serving again/, 20000);
    const restartedAt = Date.now();
    const okAtRestart = load.successes.length;
    await sleep(ctx.seconds(3, 10));
    const firstOk = load.successes.find((t) => t > killedAt);
    ctx.note(`new core serving ${((restartedAt - killedAt) / 1000).toFixed(1)} s after the kill, first success ${firstOk ? `${((firstOk - killedAt) / 1000).toFixed(1)} s` : 'never'} (the app's processes are spawned again)`);
    const now = ctx.corePid();
    ctx.expect(now !== undefined && now !== core, 'a new core runs');
    ctx.expect(load.successes.length > okAtRestart, 'requests succeed again after the restart');
    // In flight on the old core's keep-alive connections: about one per client (each client has one connection).
    ctx.expect(load.failed <= 2 * clients, `at most ${2 * clients} requests fail (the ones in flight, and a retry each)`);
    return load;
  },
};
