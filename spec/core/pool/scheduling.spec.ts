// The pool's scheduling decisions, with a spawner double (pure logic: no
// real process). Real processes are exercised in spec/e2e/pool*.spec.ts.
// The pool checks its invariants (core/pool/invariants.ts) after every
// scheduling step (verifyInvariants), and the helpers below check them again
// after every step a spec takes.
import { expect } from 'chai';
import { Pool } from '../../../core/pool/pool.ts';
import { Session } from '../../../core/pool/session.ts';
import { AppFailedError } from '../../../core/pool/group.ts';
import type { AppSpec, CoreOptions } from '../../../core/config/app-spec.ts';
import { PassengerError } from '../../../core/errors/passenger-error.ts';
import { SpawnerDouble } from '../../support/spawner-double.ts';
import { bootedKernel } from '../../support/kernel.ts';

const kernel = bootedKernel();
const DEFAULTS: Partial<CoreOptions> = Object.fromEntries(kernel.options.list().filter((d) => d.default !== undefined).map((d) => [d.name, d.default]));

function app(name: string, options: Partial<CoreOptions> = {}): AppSpec {
  return {
    appRoot: `/apps/${name}`, name, appType: 'node', startupFile: `/apps/${name}/app.js`, detectReason: 'spec',
    options: { ...DEFAULTS, min_instances: 0, ...options } as CoreOptions, sources: {},
  };
}

const tick = () => new Promise((r) => setTimeout(r, 5));
let current: Pool | undefined;

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) { await tick(); current?.assertInvariants(); }
}

async function checkout(pool: Pool, spec: AppSpec): Promise<Session> {
  const s = pool.checkout(spec);
  pool.assertInvariants();
  const session = s instanceof Session ? s : await s;
  pool.assertInvariants();
  return session;
}

async function rejection(p: Session | Promise<Session>): Promise<PassengerError> {
  try { await p; } catch (e) { return e as PassengerError; }
  throw new Error('expected the checkout to fail');
}

describe('pool scheduling (spawner double)', () => {
  let spawner: SpawnerDouble;
  let pool: Pool;
  const specs: AppSpec[] = [];
  const newPool = (maxPoolSize = 6, refresh?: (root: string) => AppSpec) => {
    spawner = new SpawnerDouble();
    pool = new Pool(kernel, spawner, { maxPoolSize, poolIdleTime: 0, processGraceMs: 50, monitorIntervalMs: 3_600_000, verifyInvariants: true },
      async (root) => refresh?.(root) ?? specs.find((s) => s.appRoot === root)!);
    current = pool;
  };
  const use = (spec: AppSpec) => { specs.push(spec); return spec; };
  beforeEach(() => newPool());
  afterEach(async () => { pool.assertInvariants(); await pool.shutdown(); pool.assertInvariants(); specs.length = 0; });

  it('spawns on the first request and routes it to the new process', async () => {
    const a = use(app('a'));
    const s = await checkout(pool, a);
    expect(spawner.spawned).to.have.length(1);
    expect(s.process.pid).to.equal(spawner.spawned[0]!.pid);
    s.close();
  });

  it('starts min_instances processes without a request', async () => {
    const a = use(app('a', { min_instances: 3 }));
    pool.prestart(a);
    await settle();
    expect(spawner.spawned).to.have.length(3);
  });

  it('routes each request to the least busy process with a free slot', async () => {
    spawner.concurrency = 2;
    const a = use(app('a', { min_instances: 2 }));
    pool.prestart(a);
    await settle();
    const s1 = await checkout(pool, a);
    const s2 = await checkout(pool, a);
    expect(s1.process.pid).not.to.equal(s2.process.pid);
    s1.close();
    const s3 = await checkout(pool, a);
    expect(s3.process.pid).to.equal(s1.process.pid);
    s2.close(); s3.close();
  });

  it('queues requests first-come-first-served when every slot is taken and max_instances is reached', async () => {
    const a = use(app('a', { max_instances: 1 }));
    const busy = await checkout(pool, a);
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) => Promise.resolve(pool.checkout(a)).then((s) => { order.push(n); return s; }));
    await settle();
    expect(pool.findGroup(a.appRoot)!.queueLength).to.equal(3);
    expect(spawner.spawned).to.have.length(1);
    busy.close();
    for (const w of waiting) (await w).close();
    expect(order).to.deep.equal([1, 2, 3]);
  });

  it('spawns another process when all are busy and the limits allow', async () => {
    const a = use(app('a', { max_instances: 3 }));
    const sessions = [await checkout(pool, a), await checkout(pool, a), await checkout(pool, a)];
    expect(new Set(sessions.map((s) => s.process.pid)).size).to.equal(3);
    const fourth = pool.checkout(a);
    await settle();
    expect(spawner.spawned).to.have.length(3);
    sessions[0]!.close();
    (await fourth).close();
    for (const s of sessions.slice(1)) s.close();
  });

  it('refuses with PSG_ERR_POOL_QUEUE_FULL (503) when the queue is full, and tells the queueFull hook', async () => {
    const a = use(app('a', { max_instances: 1, max_request_queue_size: 2 }));
    const full: string[] = [];
    kernel.hooks.queueFull.tap('spec', (g) => full.push(g.appRoot));
    const busy = await checkout(pool, a);
    const queued = [pool.checkout(a), pool.checkout(a)];
    const e = await rejection(pool.checkout(a));
    expect(e.code).to.equal('PSG_ERR_POOL_QUEUE_FULL');
    expect(full).to.include(a.appRoot);
    busy.close();
    for (const q of queued) (await q).close();
  });

  it('times a queued request out with PSG_ERR_POOL_QUEUE_TIMEOUT (504)', async () => {
    const a = use(app('a', { max_instances: 1, request_queue_timeout: 0.05 }));
    const busy = await checkout(pool, a);
    const e = await rejection(pool.checkout(a));
    expect(e.code).to.equal('PSG_ERR_POOL_QUEUE_TIMEOUT');
    expect(pool.findGroup(a.appRoot)!.queueLength).to.equal(0);
    busy.close();
  });

  it('evicts the longest-idle process of another app at max_pool_size', async () => {
    newPool(2);
    const a = use(app('a'));
    const b = use(app('b'));
    const sa1 = await checkout(pool, a);
    const sa2 = await checkout(pool, a);
    const firstPid = sa1.process.pid;
    sa1.close();
    await tick();
    sa2.close();
    const sb = await checkout(pool, b);
    expect(sb.process.pid).not.to.be.oneOf([sa1.process.pid, sa2.process.pid]);
    expect(spawner.spawned.find((p) => p.pid === firstPid)!.shutdownRequested, 'the longest-idle one goes').to.equal(true);
    expect(pool.findGroup(a.appRoot)!.processes.map((p) => p.pid)).to.deep.equal([sa2.process.pid]);
    sb.close();
  });

  it('does not evict a busy process: the request waits, and gets room once that process is idle', async () => {
    newPool(1);
    const a = use(app('a'));
    const b = use(app('b'));
    const sa = await checkout(pool, a);
    const pending = pool.checkout(b);
    await settle();
    expect(spawner.spawned).to.have.length(1);
    expect(spawner.spawned[0]!.shutdownRequested).to.equal(false);
    sa.close();
    const sb = await pending;
    expect(spawner.spawned[0]!.shutdownRequested).to.equal(true);
    expect(sb.process.pid).to.equal(spawner.spawned[1]!.pid);
    sb.close();
  });

  it('replaces a process after max_requests', async () => {
    const a = use(app('a', { max_requests: 2 }));
    const s1 = await checkout(pool, a); s1.close();
    const s2 = await checkout(pool, a); s2.close();
    await settle();
    expect(spawner.spawned[0]!.shutdownRequested).to.equal(true);
    const s3 = await checkout(pool, a);
    expect(s3.process.pid).to.equal(spawner.spawned[1]!.pid);
    s3.close();
  });

  it('removes a crashed process at once and spawns back up to min_instances', async () => {
    const a = use(app('a', { min_instances: 1 }));
    const exited: string[] = [];
    kernel.hooks.processExited.tap('spec-crash', (_p, e) => exited.push(e.reason));
    pool.prestart(a);
    await settle();
    spawner.spawned[0]!.exit();
    await settle();
    expect(exited).to.include('crash');
    expect(pool.findGroup(a.appRoot)!.processes.map((p) => p.pid)).to.deep.equal([spawner.spawned[1]!.pid]);
  });

  it('reports a failed spawn to waiting requests and backs off before the next attempt', async () => {
    const a = use(app('a'));
    spawner.failWith = 'the app is broken';
    const e = await rejection(pool.checkout(a));
    expect(e).to.be.instanceOf(AppFailedError);
    expect((e as AppFailedError).report.summary).to.equal('the app is broken');
    // Within the backoff, the next request gets the same report without a new spawn.
    const again = await rejection(pool.checkout(a));
    expect((again as AppFailedError).report.id).to.equal((e as AppFailedError).report.id);
    expect(spawner.spawned).to.have.length(0);
    // A restart (restart.txt) clears the backoff: the fixed app serves again.
    spawner.failWith = undefined;
    await pool.findGroup(a.appRoot)!.restart();
    const s = await checkout(pool, a);
    expect(s.process.pid).to.equal(spawner.spawned[0]!.pid);
    s.close();
  });

  it('restarts rolling: new processes take traffic before old ones stop', async () => {
    const a = use(app('a', { min_instances: 2 }));
    pool.prestart(a);
    await settle();
    const old = spawner.spawned.map((p) => p.pid);
    const inFlight = await checkout(pool, a);
    spawner.hold = true;
    const restarting = pool.findGroup(a.appRoot)!.restart();
    await settle();
    // While the new version spawns, the old processes keep serving.
    const during = await checkout(pool, a);
    expect(old).to.include(during.process.pid);
    during.close();
    spawner.hold = false;
    spawner.release();
    await restarting;
    await settle();
    const pids = pool.findGroup(a.appRoot)!.processes.filter((p) => p.enabled === 'enabled').map((p) => p.pid);
    expect(pids).to.have.length(2);
    expect(pids.some((p) => old.includes(p))).to.equal(false);
    // The old process with a request in flight finishes it before it stops.
    expect(spawner.spawned.find((p) => p.pid === inFlight.process.pid)!.shutdownRequested).to.equal(false);
    inFlight.close();
    await settle();
    expect(spawner.spawned.find((p) => p.pid === inFlight.process.pid)!.shutdownRequested).to.equal(true);
  });

  it('keeps the old version serving when the new one fails to spawn (production)', async () => {
    const a = use(app('a', { min_instances: 1, environment: 'production' }));
    pool.prestart(a);
    await settle();
    const oldPid = spawner.spawned[0]!.pid;
    spawner.failWith = 'syntax error in the new version';
    await pool.findGroup(a.appRoot)!.restart();
    const s = await checkout(pool, a);
    expect(s.process.pid).to.equal(oldPid);
    expect(pool.findGroup(a.appRoot)!.stats().lastError?.summary).to.equal('syntax error in the new version');
    s.close();
  });

  it('retires the old version when the new one fails to spawn in development, so requests get the error', async () => {
    const a = use(app('a', { min_instances: 1, environment: 'development' }));
    pool.prestart(a);
    await settle();
    const oldPid = spawner.spawned[0]!.pid;
    spawner.failWith = 'syntax error in the new version';
    await pool.findGroup(a.appRoot)!.restart();
    await settle();
    expect(spawner.spawned.find((p) => p.pid === oldPid)!.shutdownRequested).to.equal(true);
    const e = await rejection(pool.checkout(a));
    expect(e).to.be.instanceOf(AppFailedError);
    expect((e as AppFailedError).report.summary).to.equal('syntax error in the new version');
  });

  it('stops idle processes above min_instances', async () => {
    const a = use(app('a', { min_instances: 1 }));
    const s1 = await checkout(pool, a);
    const s2 = await checkout(pool, a);
    s1.close(); s2.close();
    pool.findGroup(a.appRoot)!.reapIdle(0);
    await settle();
    expect(pool.findGroup(a.appRoot)!.processes).to.have.length(1);
  });

  it('closes a session only once, however often close() is called', async () => {
    const a = use(app('a'));
    const s = await checkout(pool, a);
    s.close(); s.close(); s.close();
    expect(s.process.sessions).to.equal(0);
    expect(s.process.processed).to.equal(1);
  });

  it('starts a waiting rolling restart\'s spawn as soon as the running spawn ends (a promise, not a 20 ms poll)', async () => {
    const a = use(app('a', { min_instances: 1, max_instances: 2 }));
    pool.prestart(a);
    await settle();
    const busy = await checkout(pool, a);
    spawner.hold = true;
    const queued = pool.checkout(a); // the only process is busy: a second one spawns, and is held
    await settle();
    const restarting = pool.findGroup(a.appRoot)!.restart(); // rolling: waits for that spawn to end
    await settle();
    expect(spawner.spawned).to.have.length(1);
    spawner.hold = false;
    spawner.release();
    // No timer may run: only promise callbacks and I/O turns (a 20 ms poll would not have fired yet).
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(spawner.spawned, 'the restart spawned right after the held spawn ended').to.have.length(3);
    pool.assertInvariants();
    busy.close();
    (await queued).close();
    await restarting;
    await settle();
  });

  it('reports plain-data stats per group and process', async () => {
    const a = use(app('a'));
    const s = await checkout(pool, a);
    const stats = pool.stats();
    expect(stats.processCount).to.equal(1);
    const g = stats.groups[0]!;
    expect(g).to.include({ appRoot: a.appRoot, queueLength: 0, appType: 'node' });
    expect(g.processes[0]).to.include({ pid: s.process.pid, sessions: 1, processed: 0, state: 'enabled', concurrency: 1, handedConnections: 0 });
    expect(g.processes[0]).to.have.keys(['pid', 'state', 'sessions', 'handedConnections', 'concurrency', 'processed', 'spawnedAt', 'spawnDurationMs', 'lastUsed', 'cpu', 'rssBytes', 'generation', 'protocol', 'address']);
    s.close();
  });
});
