// `npm run bench -- --quick --tls`: the Node row over HTTPS, alone and with
// the metrics listener and a JSON access log, runs end to end and is compared
// with the plain row. wrk speaks TLS only to a server that does: a row that
// fell back to plain HTTP (or a bench that sent plain HTTP) would show no
// requests and connection errors here.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench } from '../support/bench-run.ts';

interface Load { requests: number; errorCount: number }
interface TargetJson { id: string; status: string; reason?: string; notes?: string; samples: { helloC1: Load; helloC32: Load; download1MiB: Load; upload10MiB: Load; rssIdle: { coreMiB: number | null } }[] }

describe('npm run bench -- --quick --tls', function () {
  this.timeout(120_000);
  this.slow(40_000);
  let dir: string;
  let result: { targets: TargetJson[]; ratios: { target: string; reference: string; rpsC32: number }[] };
  let log = '';
  let child: ChildProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-tls-spec-'));
    const file = join(dir, 'result.json');
    const run = await runBench(['--quick', '--tls', '--only', 'ours-node,ours-node-tls,ours-node-production', '--output', file], (c) => { child = c; });
    log = run.log;
    expect(run.code, log).to.equal(0);
    result = JSON.parse(readFileSync(file, 'utf8')) as typeof result;
  });
  after(() => {
    // The timeout cut the bench off: stop it.
    if (child && child.exitCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves every load of both TLS rows over HTTPS without an error', () => {
    for (const id of ['ours-node-tls', 'ours-node-production']) {
      const t = result.targets.find((x) => x.id === id);
      expect(t?.status, `${id}: ${t?.reason ?? ''}`).to.equal('ran');
      expect(t!.notes).to.contain('ssl on');
      const s = t!.samples[0]!;
      for (const key of ['helloC1', 'helloC32', 'download1MiB', 'upload10MiB'] as const) {
        expect(s[key].requests, `${id}.${key}.requests`).to.be.greaterThan(0);
        expect(s[key].errorCount, `${id}.${key}.errorCount`).to.equal(0);
      }
      expect(s.rssIdle.coreMiB, `${id} idle core RSS`).to.be.a('number');
    }
  });

  it('compares each TLS row with the plain Node row', () => {
    for (const id of ['ours-node-tls', 'ours-node-production']) {
      const r = result.ratios.find((x) => x.target === id && x.reference === 'ours-node');
      expect(r, `${id} / ours-node`).to.not.equal(undefined);
      expect(r!.rpsC32).to.be.greaterThan(0);
    }
  });
});
