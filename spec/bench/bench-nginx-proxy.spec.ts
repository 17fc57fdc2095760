// `npm run bench -- --quick --only ours-node,nginx-node`: the reference row for
// one proxy hop (nginx in front of the bare Node cluster) runs every load
// through nginx, finds its worker as the "core" and the cluster's workers as
// the apps, and is compared with our Node row. A broken upstream would answer
// 502, which wrk counts as status errors.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../support/bench-run.ts';

interface Load { requests: number; errorCount: number }
interface Cpu { coreUs: number | null; appsUs: number; appProcesses: number }
interface TargetJson { id: string; status: string; reason?: string; samples: { helloC1: Load; helloC32: Load; download1MiB: Load; upload10MiB: Load; helloC200: Load; cpuC32: Cpu; rss: { coreMiB: number | null } }[] }

describe('npm run bench -- --quick --only ours-node,nginx-node', function () {
  this.timeout(120_000);
  this.slow(40_000);
  let dir: string;
  let result: { targets: TargetJson[]; ratios: { target: string; reference: string; rpsC1: number; rpsC32: number }[] };
  let log = '';
  let child: ChildProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-nginx-spec-'));
    const file = join(dir, 'result.json');
    const run = await runBench(['--quick', '--only', 'ours-node,nginx-node', '--output', file], (c) => { child = c; });
    log = run.log;
    expect(run.code, log).to.equal(0);
    result = JSON.parse(readFileSync(file, 'utf8')) as typeof result;
  });
  after(() => {
    // The timeout cut the bench off: stop it.
    if (child && child.exitCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every load through nginx without an error', () => {
    const t = result.targets.find((x) => x.id === 'nginx-node');
    expect(t?.status, `nginx-node: ${t?.reason ?? ''}\n${log}`).to.equal('ran');
    const s = t!.samples[0]!;
    for (const key of ['helloC1', 'helloC32', 'download1MiB', 'upload10MiB', 'helloC200'] as const) {
      expect(s[key].requests, `nginx-node.${key}.requests`).to.be.greaterThan(0);
      expect(s[key].errorCount, `nginx-node.${key}.errorCount`).to.equal(0);
    }
  });

  it('counts the nginx worker as the proxy and the two cluster workers as the apps', () => {
    const s = result.targets.find((x) => x.id === 'nginx-node')!.samples[0]!;
    expect(s.cpuC32.coreUs, 'the nginx worker did the proxying').to.be.greaterThan(0);
    expect(s.cpuC32.appProcesses).to.equal(2);
    expect(s.cpuC32.appsUs).to.be.greaterThan(0);
    expect(s.rss.coreMiB, 'the nginx worker RSS').to.be.a('number');
  });

  it('compares our Node row with the nginx hop', () => {
    const r = result.ratios.find((x) => x.target === 'ours-node' && x.reference === 'nginx-node');
    expect(r, 'ours-node / nginx-node').to.not.equal(undefined);
    expect(r!.rpsC1).to.be.greaterThan(0);
    expect(r!.rpsC32).to.be.greaterThan(0);
  });
});
