// `npm run bench -- --quick` runs to completion and its JSON holds every
// figure the benchmark promises. The shape is checked, not the speed.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/passenger.ts';

function runQuickBench(output: string): Promise<{ code: number | null; log: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/run.ts'), '--quick', '--output', output], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => { log += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
    child.on('close', (code) => resolve({ code, log }));
  });
}

const isNumber = (x: unknown) => typeof x === 'number' && Number.isFinite(x);

/**
 * CPU µs per request. Our core proxies every request, so it must show CPU time; bare-node's
 * cluster primary only accepts the kept-alive connections and may well show none.
 */
function expectCpu(c: Record<string, unknown>, coreProxies: boolean, where: string): void {
  const coreUs = c.coreUs as number;
  expect(isNumber(coreUs) && (coreProxies ? coreUs > 0 : coreUs >= 0), `${where}.coreUs = ${coreUs}`).to.equal(true);
  expect(isNumber(c.appsUs) && (c.appsUs as number) > 0, `${where}.appsUs`).to.equal(true);
  expect(isNumber(c.othersUs) && (c.othersUs as number) >= 0, `${where}.othersUs`).to.equal(true);
  expect(isNumber(c.totalUs) && (c.totalUs as number) >= (c.appsUs as number), `${where}.totalUs`).to.equal(true);
}

function expectLoadResult(r: Record<string, unknown>, where: string): void {
  for (const key of ['requests', 'durationSec', 'rps', 'readMiBps', 'errorCount']) expect(isNumber(r[key]), `${where}.${key}`).to.equal(true);
  const latency = r.latencyMs as Record<string, unknown>;
  for (const key of ['p50', 'p90', 'p99', 'max']) expect(isNumber(latency[key]), `${where}.latencyMs.${key}`).to.equal(true);
  expect(Object.keys(r.errors as object)).to.have.members(['connect', 'read', 'write', 'timeout', 'status']);
}

describe('npm run bench -- --quick', function () {
  this.timeout(120_000);
  this.slow(60_000);
  let dir: string;
  let result: Record<string, unknown>;
  let log: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-spec-'));
    const file = join(dir, 'result.json');
    const run = await runQuickBench(file);
    log = run.log;
    expect(run.code, log).to.equal(0);
    result = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('prints a table and says where the JSON went', () => {
    expect(log).to.match(/server\s+rps c1\s+rps c32/);
    expect(log).to.match(/core µs\/req c32\s+apps µs\/req c32/);
    expect(log).to.match(/wrote .*result\.json/);
    expect(log).to.match(/peers .* skipped/);
  });

  it('describes the run: schema, mode, machine, settings', () => {
    expect(result.schema).to.equal('passenger-ts-bench/6');
    expect(result.mode).to.equal('quick');
    const machine = result.machine as Record<string, unknown>;
    expect(isNumber(machine.cpus)).to.equal(true);
    expect(machine.cpuModel).to.be.a('string');
    expect((result.settings as Record<string, unknown>).processes).to.equal(2);
  });

  it('has every figure for our server and the bare app, and a reason for anything skipped', () => {
    const targets = result.targets as Record<string, unknown>[];
    expect(targets.map((t) => t.id)).to.include.members(['ours-node', 'ours-rack', 'ours-wsgi', 'ours-asgi', 'ours-generic', 'bare-node']);
    for (const t of targets) {
      if (t.status === 'skipped') { expect(t.reason, `${t.id as string} skipped without a reason`).to.be.a('string').and.not.equal(''); continue; }
      expect(t.status, `${t.id as string}: ${t.reason as string}`).to.equal('ran');
      const samples = t.samples as Record<string, unknown>[];
      expect(samples).to.have.length(1);
      const s = samples[0]!;
      for (const key of ['helloC1', 'helloC32', 'download1MiB', 'upload10MiB', 'helloC200']) expectLoadResult(s[key] as Record<string, unknown>, `${t.id as string}.${key}`);
      // Memory twice: at once after the loads, and once the server went quiet.
      for (const key of ['rss', 'rssIdle']) expect(isNumber((s[key] as Record<string, unknown>).coreMiB), `${t.id as string}.${key}.coreMiB`).to.equal(true);
      // Every server here has a core (ours) or a master (bare-node's cluster primary); both app processes are counted.
      const proxies = t.server === 'ours';
      for (const key of ['cpuC1', 'cpuC32']) {
        const cpu = s[key] as Record<string, unknown>;
        expectCpu(cpu, proxies, `${t.id as string}.${key}`);
        expect(cpu.appProcesses, `${t.id as string}.${key}.appProcesses`).to.equal(2);
      }
      const m = t.median as Record<string, unknown>;
      for (const key of ['cpuC1', 'cpuC32']) expectCpu(m[key] as Record<string, unknown>, proxies, `${t.id as string} median.${key}`);
      for (const key of ['rpsC1', 'rpsC32', 'p50C1Ms', 'p99C1Ms', 'p50C32Ms', 'p99C32Ms', 'coldStartMs', 'coreRssMiB', 'coreRssIdleMiB', 'corePrivateMiB', 'corePssMiB', 'totalRssMiB']) {
        expect(isNumber(m[key]), `${t.id as string} median.${key}`).to.equal(true);
      }
      expect(m.appRssMiB, `${t.id as string} app RSS`).to.have.length(2);
      for (const key of ['download1MiB', 'upload10MiB']) {
        const big = m[key] as Record<string, unknown>;
        expect(isNumber(big.rps) && isNumber(big.MiBps), `${t.id as string} ${key}`).to.equal(true);
      }
      const c200 = m.c200 as Record<string, unknown>;
      expect(isNumber(c200.rps) && isNumber(c200.errors), `${t.id as string} c200`).to.equal(true);
      if (t.server === 'ours' && (t.app === 'rack' || t.app === 'wsgi')) {
        expect(isNumber(m.spawnOneMoreMs), `${t.id as string} spawnOneMoreMs`).to.equal(true);
      }
    }
  });

  it('errors at 200 concurrent connections are counted (0 for our server)', () => {
    for (const t of result.targets as Record<string, unknown>[]) {
      if (t.status !== 'ran' || t.server !== 'ours') continue;
      expect((t.median as { c200: { errors: number } }).c200.errors, t.id as string).to.equal(0);
    }
  });

  it('has the static-file rows: our core and nginx serving the same 1 MiB file, and the same 2 KiB file', () => {
    type Medians = Record<string, Record<string, unknown> | null>;
    const st = result.staticFile as {
      bytes: number; samples: Record<string, unknown>[]; median: Medians; ratio: Record<string, unknown> | null; skipped: string[];
      small: { bytes: number; median: Medians; ratio: Record<string, unknown> | null };
    };
    expect(st.bytes).to.equal(1 << 20);
    expect(st.skipped, st.skipped.join('; ')).to.deep.equal([]);
    expect(st.samples.map((x) => x.server)).to.have.members(['ours', 'nginx']);
    for (const x of st.samples) {
      expectLoadResult(x.c1 as Record<string, unknown>, `static ${x.server as string} c1`);
      expectLoadResult(x.c32 as Record<string, unknown>, `static ${x.server as string} c32`);
      // Every response was the whole file.
      const c32 = x.c32 as { requests: number; errorCount: number; readMiBps: number };
      expect(c32.errorCount, `static ${x.server as string} errors`).to.equal(0);
      expect(c32.readMiBps, `static ${x.server as string} MiB/s`).to.be.greaterThan(0);
      const small = x.small as { c1: Record<string, unknown>; c32: { errorCount: number; requests: number; readMiBps: number; durationSec: number } };
      expectLoadResult(small.c1, `static small ${x.server as string} c1`);
      expectLoadResult(small.c32 as unknown as Record<string, unknown>, `static small ${x.server as string} c32`);
      expect(small.c32.errorCount, `static small ${x.server as string} errors`).to.equal(0);
      // 2 KiB of body plus the head per response: every response was the whole file.
      const perResponse = (small.c32.readMiBps * 1048576 * small.c32.durationSec) / small.c32.requests;
      expect(perResponse, `static small ${x.server as string} bytes per response`).to.be.within(2048, 2048 + 1024);
    }
    expect(st.small.bytes).to.equal(2048);
    for (const who of ['ours', 'nginx']) {
      for (const key of ['rpsC1', 'MiBpsC1', 'rpsC32', 'MiBpsC32', 'p99C32Ms']) {
        expect(isNumber(st.median[who]![key]), `${who}.${key}`).to.equal(true);
        expect(isNumber(st.small.median[who]![key]), `small ${who}.${key}`).to.equal(true);
      }
    }
    expect(isNumber(st.ratio!.rpsC1) && isNumber(st.ratio!.rpsC32)).to.equal(true);
    expect(isNumber(st.small.ratio!.rpsC1) && isNumber(st.small.ratio!.rpsC32)).to.equal(true);
    expect(log).to.match(/static 1 MiB file\s+rps c1\s+MiB\/s c1/);
    expect(log).to.match(/static 2 KiB file\s+rps c1\s+MiB\/s c1/);
  });

  it('has ratios against the bare app', () => {
    const ratios = result.ratios as Record<string, unknown>[];
    const r = ratios.find((x) => x.target === 'ours-node' && x.reference === 'bare-node');
    expect(r).to.not.equal(undefined);
    for (const key of ['rpsC1', 'rpsC32', 'p99C32', 'cpuC32']) expect(isNumber(r![key]), key).to.equal(true);
  });
});
