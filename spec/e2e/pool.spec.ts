// The pool with real app processes, through `passenger run`: queueing and
// limits, crash recovery under load, zero-downtime restarts, recycling.
import { expect } from 'chai';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

interface Result { status: number; body: string }

async function get(url: string): Promise<Result> {
  try {
    const r = await fetch(url);
    return { status: r.status, body: await r.text() };
  } catch {
    return { status: 0, body: 'connection failed' };
  }
}

function copyApp(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `psg-${name}-`));
  cpSync(fixtureApp(name), dir, { recursive: true });
  return dir;
}

/** Concurrent clients sending requests until `ms` passes (bounded in time and count). */
async function loadLoop(url: string, clients: number, ms: number, maxRequests = 20_000): Promise<Result[]> {
  const results: Result[] = [];
  const until = Date.now() + ms;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < until && results.length < maxRequests) results.push(await get(url));
  }));
  return results;
}

const pidOf = (r: Result) => Number(r.body.split(' ')[0]);

async function waitForExit(pid: number, ms = 10000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try { process.kill(pid, 0); } catch { return; }
    if (Date.now() > until) throw new Error(`process ${pid} is still running`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('pool with real processes', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('queues requests beyond the processes\' capacity and serves them in order', async () => {
    p = await startPassenger(fixtureApp('rack-pool'), { args: ['--max-instances', '1', '--min-instances', '1'] });
    const started: number[] = [];
    const done: number[] = [];
    await Promise.all([1, 2, 3, 4].map(async (n) => {
      await new Promise((r) => setTimeout(r, n * 30));
      started.push(n);
      const r = await get(`${p!.url}/sleep?s=0.15&n=${n}`);
      expect(r.status).to.equal(200);
      done.push(n);
    }));
    expect(done).to.deep.equal(started);
  });

  it('answers 503 with Retry-After when the queue is full', async () => {
    p = await startPassenger(fixtureApp('rack-pool'), { args: ['--max-instances', '1', '--max-request-queue-size', '1'] });
    await get(`${p.url}/`);
    const responses = await Promise.all([0, 1, 2, 3].map(async () => {
      const r = await fetch(`${p!.url}/sleep?s=0.5`);
      return { status: r.status, retryAfter: r.headers.get('retry-after'), body: await r.text() };
    }));
    const refused = responses.filter((r) => r.status === 503);
    expect(responses.filter((r) => r.status === 200)).to.have.length(2); // one served, one queued
    expect(refused).to.have.length(2);
    expect(refused[0]!.retryAfter).to.equal('1');
    expect(refused[0]!.body).to.match(/queue of rack-pool is full/);
  });

  it('survives kill -9 of an app process under load: only its in-flight request fails', async () => {
    p = await startPassenger(fixtureApp('rack-pool'), { args: ['--min-instances', '2', '--max-instances', '2'] });
    const warm = await Promise.all([0, 1, 2, 3].map(() => get(`${p!.url}/sleep?s=0.1`)));
    const victim = Number(warm[0]!.body.split(' ')[1]);
    const load = loadLoop(`${p.url}/sleep?s=0.02`, 4, 3000);
    await new Promise((r) => setTimeout(r, 800));
    process.kill(victim, 'SIGKILL');
    const results = await load;
    const failed = results.filter((r) => r.status !== 200);
    expect(results.length).to.be.above(20);
    // At most the one request the victim was serving (concurrency 1) fails.
    expect(failed.length, JSON.stringify(failed)).to.be.at.most(1);
    for (const f of failed) expect(f.status).to.equal(502);
    await p.waitForOutput(new RegExp(`process ${victim} died unexpectedly`));
    const after = await get(`${p.url}/`);
    expect(after.status).to.equal(200);
  });

  it('restarts on tmp/restart.txt under load without failing a request', async () => {
    const dir = copyApp('rack-pool');
    dirs.push(dir);
    p = await startPassenger(dir, { args: ['--min-instances', '2'] });
    const before = await get(`${p.url}/`);
    expect(before.body).to.match(/ v1\n$/);
    const load = loadLoop(`${p.url}/`, 4, 4000);
    await new Promise((r) => setTimeout(r, 500));
    writeFileSync(join(dir, 'config.ru'), "run ->(env) { [200, {'content-type' => 'text/plain'}, [\"#{Process.pid} v2\\n\"]] }\n");
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'tmp/restart.txt'), '');
    const results = await load;
    expect(results.filter((r) => r.status !== 200), 'failed requests').to.deep.equal([]);
    expect(results.some((r) => r.body.endsWith(' v2\n')), 'the new version took over').to.equal(true);
    expect((await get(`${p.url}/`)).body).to.match(/ v2\n$/);
    expect(results.at(-1)!.body).to.match(/ v2\n$/);
  });

  it('keeps the old version serving when the new one fails to start (production)', async () => {
    const dir = copyApp('rack-pool');
    dirs.push(dir);
    p = await startPassenger(dir, { args: ['--environment', 'production'] });
    const oldPid = pidOf(await get(`${p.url}/`));
    writeFileSync(join(dir, 'config.ru'), "raise 'the new release is broken'\n");
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'tmp/restart.txt'), '');
    await new Promise((r) => setTimeout(r, 1100)); // restart.txt is looked at once a second
    const during = await get(`${p.url}/`);
    await p.waitForOutput(/restart failed \(error \w+\); the previous version keeps serving/);
    expect(during.status).to.equal(200);
    const after = await get(`${p.url}/`);
    expect(after.status).to.equal(200);
    expect(pidOf(after)).to.equal(oldPid);
    expect(p.output()).to.match(/the new release is broken/);
  });

  it('shows the error page when the new version fails to start in development', async () => {
    const dir = copyApp('rack-pool');
    dirs.push(dir);
    p = await startPassenger(dir, { args: ['--environment', 'development'] });
    const oldPid = pidOf(await get(`${p.url}/`));
    writeFileSync(join(dir, 'config.ru'), "raise 'the new release is broken'\n");
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'tmp/restart.txt'), '');
    await new Promise((r) => setTimeout(r, 1100)); // restart.txt is looked at once a second
    await get(`${p.url}/`); // notices restart.txt
    await p.waitForOutput(/restart failed \(error \w+\); environment is development/);
    const after = await get(`${p.url}/`);
    expect(after.status).to.equal(500);
    expect(after.body).to.include('the new release is broken');
    await waitForExit(oldPid);
  });

  it('restarts on every request while tmp/always_restart.txt exists', async () => {
    const dir = copyApp('rack-pool');
    dirs.push(dir);
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    writeFileSync(join(dir, 'tmp/always_restart.txt'), '');
    p = await startPassenger(dir);
    const pids = [];
    for (let i = 0; i < 3; i++) pids.push(pidOf(await get(`${p.url}/`)));
    expect(new Set(pids).size).to.equal(3);
  });

  it('replaces a process after max_requests', async () => {
    p = await startPassenger(fixtureApp('rack-pool'), { args: ['--max-requests', '3'] });
    const pids = [];
    for (let i = 0; i < 7; i++) pids.push(pidOf(await get(`${p.url}/`)));
    expect(new Set(pids.slice(0, 3)).size).to.equal(1);
    expect(pids[3]).not.to.equal(pids[0]);
    expect(new Set(pids).size).to.equal(3);
  });

  it('replaces a process above memory_limit once it is idle', async () => {
    p = await startPassenger(fixtureApp('rack-pool'), { args: ['--memory-limit', '100'] });
    const first = await get(`${p.url}/alloc?mb=150`);
    const pid = Number(first.body.split(' ').at(-1));
    await p.waitForOutput(new RegExp(`process ${pid} of rack-pool uses \\d+ MiB, above memory_limit 100 MiB`), 10000);
    await new Promise((r) => setTimeout(r, 300));
    const next = await get(`${p.url}/`);
    expect(next.status).to.equal(200);
    expect(pidOf(next)).not.to.equal(pid);
  });

  it('stops idle processes above min_instances after pool_idle_time', async () => {
    p = await startPassenger(fixtureApp('rack-pool'), { args: ['--min-instances', '1', '--pool-idle-time', '1'] });
    await Promise.all([0, 1, 2].map(() => get(`${p!.url}/sleep?s=0.3`)));
    const count = () => (p!.output().match(/ready in \d+ ms/g) ?? []).length;
    expect(count()).to.be.at.least(2);
    await p.waitForOutput(/stopping idle process \d+/, 10000);
  });
});
