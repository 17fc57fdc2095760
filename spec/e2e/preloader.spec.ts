// Smart spawning through `passenger run`: processes forked from a preloader
// start much faster than loaders started from scratch, are independent of one
// another (pids, random sequences, fork hooks), and the preloader itself is
// restarted, replaced and stopped as the app's life requires.
import { expect } from 'chai';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

interface Reply { pid: number; random: string; hook: string }

async function ask(url: string): Promise<Reply> {
  const text = await (await fetch(url)).text();
  const m = /^(\d+) (\d+) hook=(\w+)$/.exec(text.trim());
  if (!m) throw new Error(`unexpected reply from ${url}: ${text}`);
  return { pid: Number(m[1]), random: m[2]!, hook: m[3]! };
}

/** The "process N ready in M ms" durations the pool logged, in order. */
function spawnDurations(output: string): number[] {
  return [...output.matchAll(/process \d+ ready in (\d+) ms/g)].map((m) => Number(m[1]));
}

function preloaderPids(output: string): number[] {
  return [...output.matchAll(/preloader (\d+) loaded the app/g)].map((m) => Number(m[1]));
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

function cmdline(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function until<T>(what: string, ms: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const APPS = [
  { type: 'rack', fixture: 'rack-preload', preloaderTitle: /RackPreloader|rack-preloader\.rb/ },
  { type: 'wsgi', fixture: 'wsgi-preload', preloaderTitle: /wsgi-preloader\.py/ },
];

describe('smart spawning with preloaders', function () {
  this.timeout(180000);
  const running: RunningPassenger[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const p of running.splice(0)) await stopAndClean(p);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const copyApp = (name: string) => {
    const dir = mkdtempSync(join(tmpdir(), `psg-${name}-`));
    cpSync(fixtureApp(name), dir, { recursive: true });
    dirs.push(dir);
    return dir;
  };
  const start = async (app: string, args: string[]) => {
    const p = await startPassenger(app, { args, timeoutMs: 60000 });
    running.push(p);
    return p;
  };

  for (const { type, fixture, preloaderTitle } of APPS) {
    describe(type, () => {
      it('spawns the second and later processes at least 3x faster with smart than with direct', async () => {
        const instances = 4;
        const args = ['--min-instances', String(instances), '--max-instances', String(instances)];
        const measure = async (method: string) => {
          const p = await start(copyApp(fixture), [...args, '--spawn-method', method]);
          const durations = await until(`${instances} ${method} processes`, 90000, () => {
            const d = spawnDurations(p.output());
            return d.length >= instances ? d : undefined;
          });
          await stopAndClean(running.pop());
          return durations.slice(1);
        };
        const direct = await measure('direct');
        const smart = await measure('smart');
        const ratio = median(direct) / Math.max(1, median(smart));
        console.log(`      ${type}: later spawns direct ${direct.join('/')} ms, smart ${smart.join('/')} ms: smart is ${ratio.toFixed(1)}x faster`);
        expect(ratio).to.be.at.least(3);
      });

      it('gives each forked process its own pid, random sequence and fork hook run', async () => {
        const p = await start(copyApp(fixture), ['--min-instances', '3', '--max-instances', '3']);
        await until('3 processes', 60000, () => (spawnDurations(p.output()).length >= 3 ? true : undefined));
        const replies: Reply[] = [];
        for (let round = 0; round < 4 && new Set(replies.map((r) => r.pid)).size < 3; round++) {
          replies.push(...await Promise.all(Array.from({ length: 6 }, () => ask(`${p.url}/slow`))));
        }
        const byPid = new Map<number, string[]>();
        for (const r of replies) byPid.set(r.pid, [...(byPid.get(r.pid) ?? []), r.random]);
        expect(byPid.size).to.equal(3);
        expect(replies.every((r) => r.hook === 'ran'), 'the fork hook ran in every process').to.equal(true);
        const firsts = [...byPid.values()].map((seq) => seq[0]);
        expect(new Set(firsts).size, `first random numbers ${firsts.join(', ')}`).to.equal(3);
        expect(new Set(replies.map((r) => r.random)).size).to.equal(replies.length);
        const [preloader] = preloaderPids(p.output());
        for (const pid of byPid.keys()) expect(parentOf(pid)).to.equal(preloader);
        expect(cmdline(preloader!)).to.match(preloaderTitle);
      });

      it('replaces a killed preloader on the next spawn', async () => {
        const p = await start(copyApp(fixture), ['--min-instances', '1', '--max-instances', '1']);
        const first = await ask(p.url);
        const [preloader] = preloaderPids(p.output());
        process.kill(preloader!, 'SIGKILL');
        await p.waitForOutput(new RegExp(`preloader ${preloader} exited unexpectedly`), 20000);
        expect((await ask(p.url)).pid, 'the forked process outlives its preloader').to.equal(first.pid);
        process.kill(first.pid, 'SIGKILL');
        const next = await until('a process from a new preloader', 60000, async () => {
          const r = await ask(p.url).catch(() => undefined);
          return r && r.pid !== first.pid ? r : undefined;
        });
        const pids = preloaderPids(p.output());
        expect(pids).to.have.length(2);
        expect(parentOf(next.pid)).to.equal(pids[1]);
        expect(next.hook).to.equal('ran');
      });

      it('runs no preloader with spawn_method direct', async () => {
        const p = await start(copyApp(fixture), ['--min-instances', '2', '--max-instances', '2', '--spawn-method', 'direct']);
        await until('2 processes', 60000, () => (spawnDurations(p.output()).length >= 2 ? true : undefined));
        const replies = await Promise.all(Array.from({ length: 4 }, () => ask(`${p.url}/slow`)));
        expect(p.output()).not.to.match(/preloader/);
        for (const r of replies) {
          expect(r.hook).to.equal('no');
          expect(cmdline(parentOf(r.pid))).to.match(/core-main/);
        }
      });
    });
  }

  it('replaces the preloader when the app is restarted (restart.txt)', async () => {
    const app = copyApp('rack-preload');
    const p = await start(app, ['--min-instances', '1', '--max-instances', '1']);
    const before = await ask(p.url);
    const [old] = preloaderPids(p.output());
    mkdirSync(join(app, 'tmp'), { recursive: true });
    writeFileSync(join(app, 'tmp', 'restart.txt'), '');
    const future = new Date(Date.now() + 5000);
    utimesSync(join(app, 'tmp', 'restart.txt'), future, future);
    const after = await until('a process of the new generation', 60000, async () => {
      const r = await ask(p.url);
      return r.pid !== before.pid ? r : undefined;
    });
    const pids = preloaderPids(p.output());
    expect(pids).to.have.length(2);
    expect(p.output()).to.contain(`stopping preloader ${old} (the app was restarted)`);
    expect(parentOf(after.pid)).to.equal(pids[1]);
  });

  it('stops a preloader idle for max_preloader_idle_time; its processes keep serving', async () => {
    const p = await start(copyApp('wsgi-preload'), ['--min-instances', '1', '--max-instances', '1', '--max-preloader-idle-time', '1']);
    const first = await ask(p.url);
    const [preloader] = preloaderPids(p.output());
    await p.waitForOutput(new RegExp(`stopping preloader ${preloader} \\(idle for 1 s\\)`), 20000);
    await until('the preloader to exit', 20000, () => {
      try { process.kill(preloader!, 0); return undefined; } catch { return true; }
    });
    expect((await ask(p.url)).pid).to.equal(first.pid);
  });
});

describe('passenger detect: the spawn method', function () {
  this.timeout(30000);
  for (const [app, preloader, loader] of [['rack-basic', 'rack-preloader.rb', 'rack-loader.rb'], ['wsgi-battery', 'wsgi-preloader.py', 'wsgi-loader.py']] as const) {
    it(`shows ${preloader} by default and ${loader} with --spawn-method direct`, async () => {
      const smart = JSON.parse((await passengerCommand(['detect', fixtureApp(app), '--json'])).stdout) as { spawnMethod: string; loader: string[] };
      expect(smart.spawnMethod).to.equal('smart');
      expect(smart.loader[1]).to.match(new RegExp(`/${preloader.replace('.', '\\.')}$`));
      const direct = JSON.parse((await passengerCommand(['detect', fixtureApp(app), '--json', '--spawn-method', 'direct'])).stdout) as { spawnMethod: string; loader: string[] };
      expect(direct.spawnMethod).to.equal('direct');
      expect(direct.loader[1]).to.match(new RegExp(`/${loader.replace('.', '\\.')}$`));
    });
  }
});
