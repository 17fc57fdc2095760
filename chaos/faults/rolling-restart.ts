// Touching tmp/restart.txt under load: the app's processes are replaced
// while requests keep being served; not one may fail.
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Fault } from '../harness.ts';
import { sleep } from '../harness.ts';

export const rollingRestart: Fault = {
  name: 'rolling restart',
  description: 'touch tmp/restart.txt (twice in short mode, five times in full mode)',
  apps: ['rack', 'node', 'wsgi'],
  async run(ctx) {
    const load = ctx.startLoad(4);
    const restarts = ctx.mode === 'short' ? 2 : 5;
    const file = join(ctx.appDir, 'tmp/restart.txt');
    mkdirSync(join(ctx.appDir, 'tmp'), { recursive: true });
    const first = new Set(await ctx.poolPids());
    for (let i = 0; i < restarts; i++) {
      await sleep(ctx.seconds(1.5, 3));
      writeFileSync(file, '');
      const t = new Date(Date.now() + i * 1000); // a distinct mtime each time, even within one second
      utimesSync(file, t, t);
    }
    await sleep(ctx.seconds(2.5, 5));
    const now = await ctx.poolPids();
    ctx.note(`${now.filter((p) => !first.has(p)).length} of ${now.length} processes are new`);
    ctx.expect(now.some((p) => !first.has(p)), 'the processes were replaced');
    ctx.expect(load.failed === 0, 'no request fails');
    return load;
  },
};
