// What every fault shares: a real server on loopback for one app, a load loop
// that records when requests succeed, a sampler of the core's memory and of the
// process tree, and the leftover check that ends (by PID) whatever outlived it.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { adminRequest } from '../core/admin/client.ts';
import type { StatusReply } from '../core/cli/commands/status.ts';
import { startPassenger, type RunningPassenger } from '../spec/support/passenger.ts';
import { makeChaosApp, type AppKind } from './apps.ts';

export type Mode = 'short' | 'full';

/** One row of the table. */
export interface FaultResult {
  fault: string;
  app: AppKind;
  sent: number;
  failed: number;
  /** Longest time, in ms, without a successful request during the load loop. */
  longestGapMs: number;
  /** Highest resident memory of the core process seen, in MiB (across restarts of the core). */
  coreRssPeakMiB: number;
  /** Processes still running 10 s after the server was stopped (ended by the harness). */
  leftovers: number;
  /** What the fault itself observed (statuses of slow clients, upload checksum...). */
  notes: string;
  /** Properties that must hold; a non-empty list fails the fault. */
  violations: string[];
}

// Processes started here carry this token in their environment, inherited through every spawn.
const token = process.env.PASSENGER_SPEC_TOKEN ?? (process.env.PASSENGER_SPEC_TOKEN = randomBytes(8).toString('hex'));

/** Slow-client faults: a request of the load loop not answered within this long failed (it was stuck behind a slow client). */
export const SERVED_WITHIN_MS = 2500;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, ppid: Number(fields[1]) };
  } catch { return undefined; }
}

export function alive(pid: number): boolean {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z';
}

/** Every process below `root`. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = procStat(pid);
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => { for (const c of children.get(pid) ?? []) { out.push(c); walk(c); } };
  walk(root);
  return out;
}

function commandLine(pid: number): string {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim(); } catch { return ''; }
}

/** Processes carrying our token (Ruby's `$0 =` hides it, hence also the tree recorded while running). */
function tokenProcesses(): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').includes(`PASSENGER_SPEC_TOKEN=${token}`)) continue;
      const cmd = commandLine(pid);
      if (cmd.includes('@esbuild/') && cmd.includes('--service')) continue; // tsx's compiler service belongs to this runner
      if (alive(pid)) found.push(pid);
    } catch { /* gone, or not ours */ }
  }
  return found;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch { return 0; }
}

/** The load loop's view: when each request ended, and whether it succeeded. */
export class Load {
  sent = 0;
  failed = 0;
  readonly successes: number[] = [];
  /** Why requests failed: error code, `timeout` or `status N`, with counts. */
  readonly reasons = new Map<string, number>();
  #stopped = false;
  #loops: Promise<void>[] = [];
  #started = 0;
  #ended = 0;
  readonly #agents: http.Agent[] = [];

  readonly port: number;
  readonly timeoutMs: number;

  /** `clients` loops of GET /, each on its own keep-alive connection; a request not answered in `timeoutMs` fails. */
  constructor(port: number, clients: number, timeoutMs = 5000) {
    this.port = port;
    this.timeoutMs = timeoutMs;
    this.#started = Date.now();
    for (let i = 0; i < clients; i++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      this.#agents.push(agent);
      this.#loops.push(this.#loop(agent));
    }
  }

  async #loop(agent: http.Agent): Promise<void> {
    while (!this.#stopped) {
      this.sent++;
      const failure = await this.#get(agent);
      if (failure === undefined) this.successes.push(Date.now());
      else {
        this.failed++;
        this.reasons.set(failure, (this.reasons.get(failure) ?? 0) + 1);
        await sleep(50);
      } // a real client backs off a little; a refusal window is not counted 1000 times
    }
  }

  /** One GET; resolves with why it failed, or undefined when it got `200 ok`. */
  #get(agent: http.Agent): Promise<string | undefined> {
    return new Promise((resolve) => {
      const why = (e: NodeJS.ErrnoException) => resolve(e.message === 'timeout' ? 'timeout' : e.code ?? e.message);
      const req = http.get({ host: '127.0.0.1', port: this.port, path: '/', agent }, (res) => {
        let body = '';
        res.setEncoding('latin1');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => resolve(res.statusCode === 200 && body === 'ok' ? undefined : `status ${res.statusCode}`));
        res.on('error', why);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', why);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    this.#ended = Date.now();
    for (const a of this.#agents) a.destroy();
  }

  get longestGapMs(): number {
    const points = [this.#started, ...this.successes, this.#ended || Date.now()];
    let gap = 0;
    for (let i = 1; i < points.length; i++) gap = Math.max(gap, points[i]! - points[i - 1]!);
    return gap;
  }
}

export interface FaultContext {
  mode: Mode;
  app: AppKind;
  appDir: string;
  server: RunningPassenger;
  /** The core's PID now (it changes when the watchdog restarts the core). */
  corePid(): number | undefined;
  /** The pool's app processes (not preloaders), from the admin API. */
  poolPids(): Promise<number[]>;
  /**
   * Starts the load loop (call once). A request not answered within `timeoutMs` counts as failed: for the slow-client
   * faults that is the property "other clients are still served" (a request queued behind a slow client waits seconds; served, milliseconds).
   */
  startLoad(clients?: number, timeoutMs?: number): Load;
  note(text: string): void;
  expect(ok: boolean, property: string): void;
  /** Seconds the fault's load runs, by mode. */
  seconds(short: number, full: number): number;
}

export interface Fault {
  name: string;
  /** What the fault does, for the table's legend. */
  description: string;
  /** The apps it runs against, in full mode; short mode takes the first. */
  apps: AppKind[];
  /** Extra CLI arguments for the server. */
  args?(mode: Mode): string[];
  /** The server is expected to be dead after the fault (so no SIGTERM stop). */
  killsServer?: boolean;
  /** No process survives to remove the instance directory (it is stale: the next server on the registry removes it; here the harness does). */
  leavesInstanceDir?: boolean;
  run(ctx: FaultContext): Promise<Load | undefined>;
}

function instanceDir(server: RunningPassenger): string | undefined {
  const dirs = server.instanceDirs();
  return dirs.length === 1 ? join(server.registryDir, dirs[0]!) : undefined;
}

/** Runs one fault against one app on a fresh server; always stops the server and ends leftovers. */
export async function runFault(fault: Fault, app: AppKind, mode: Mode, log: (line: string) => void = () => {}): Promise<FaultResult> {
  const { dir, remove } = makeChaosApp(app);
  const result: FaultResult = { fault: fault.name, app, sent: 0, failed: 0, longestGapMs: 0, coreRssPeakMiB: 0, leftovers: 0, notes: '', violations: [] };
  const seen = new Set<number>();
  let server: RunningPassenger | undefined;
  let load: Load | undefined;
  let sampler: NodeJS.Timeout | undefined;
  let corePid: number | undefined;
  const notes: string[] = [];
  try {
    // Short timeouts for slow clients, so the short mode sees them cut off; min 2 processes so one may die.
    server = await startPassenger(dir, {
      args: ['--min-instances', '2', '--client-header-timeout', '3', '--client-body-timeout', '3', '--environment', 'production', ...(fault.args?.(mode) ?? [])],
      timeoutMs: 60000,
    });
    const s = server;
    const readCorePid = () => {
      try {
        const d = instanceDir(s);
        if (d) corePid = (JSON.parse(readFileSync(join(d, 'properties.json'), 'utf8')) as { corePid?: number }).corePid;
      } catch { /* being rewritten, or gone */ }
      return corePid !== undefined && alive(corePid) ? corePid : undefined;
    };
    const sample = () => {
      const core = readCorePid();
      if (core !== undefined) result.coreRssPeakMiB = Math.max(result.coreRssPeakMiB, rssMiB(core));
      if (s.child.pid !== undefined) for (const pid of descendants(s.child.pid)) seen.add(pid);
    };
    sample();
    sampler = setInterval(sample, 200);
    const ctx: FaultContext = {
      mode, app, appDir: dir, server: s,
      corePid: readCorePid,
      poolPids: async () => {
        const d = instanceDir(s);
        if (!d) return [];
        const password = readFileSync(join(d, 'read_only_admin_password.txt'), 'utf8').trim();
        const status = (await adminRequest<StatusReply>(join(d, 'admin.sock'), password, 'GET', '/status')).body;
        return status.pool.groups.flatMap((g) => g.processes.map((x) => x.pid));
      },
      startLoad: (clients = 4, timeoutMs = 5000) => (load = new Load(s.port, clients, timeoutMs)),
      note: (t) => { notes.push(t); },
      expect: (ok, property) => { if (!ok) result.violations.push(property); },
      seconds: (short, full) => (mode === 'short' ? short : full) * 1000,
    };
    // Warm up: every process answers before the fault starts.
    const warm = new Load(s.port, 2);
    await sleep(500);
    await warm.stop();
    const returned = await fault.run(ctx);
    load = returned ?? load;
    if (load) {
      await load.stop();
      result.sent = load.sent;
      result.failed = load.failed;
      result.longestGapMs = load.longestGapMs;
      if (load.reasons.size > 0) notes.push(`failures: ${[...load.reasons].map(([r, n]) => `${n}× ${r}`).join(', ')}`);
    }
    sample();
  } catch (e) {
    result.violations.push(`the fault did not run to its end: ${(e as Error).message.split('\n')[0]}`);
    if (load) await load.stop();
  } finally {
    if (sampler) clearInterval(sampler);
    if (server) {
      const code = await server.stop();
      if (!fault.killsServer && code !== 0) result.violations.push(`the server exited with ${code} on SIGTERM`);
    }
    // Everything must be gone within 10 s of the stop, without help; what is not is counted, then ended.
    const deadline = Date.now() + 10000;
    let left: number[] = [];
    do {
      left = [...new Set([...tokenProcesses(), ...[...seen].filter(alive)])].filter((p) => p !== process.pid);
      if (left.length === 0) break;
      await sleep(200);
    } while (Date.now() < deadline);
    result.leftovers = left.length;
    if (left.length > 0) {
      result.violations.push(`processes left behind: ${left.map((p) => `${p} ${commandLine(p)}`).join(', ')}`);
      for (const p of left) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    }
    if (server) {
      const dirsLeft = server.instanceDirs();
      if (dirsLeft.length > 0 && fault.leavesInstanceDir) notes.push('stale instance directory left (no process survives to remove it; the next start removes it)');
      else if (dirsLeft.length > 0) result.violations.push(`instance directory left behind: ${dirsLeft.join(', ')}`);
      rmSync(server.registryDir, { recursive: true, force: true });
    }
    remove();
    result.notes = notes.join('; ');
    log(`${fault.name} (${app}): sent ${result.sent}, failed ${result.failed}, gap ${result.longestGapMs} ms, core RSS ${result.coreRssPeakMiB.toFixed(0)} MiB, leftovers ${result.leftovers}${result.violations.length ? `, VIOLATED: ${result.violations.join('; ')}` : ''}`);
  }
  return result;
}
