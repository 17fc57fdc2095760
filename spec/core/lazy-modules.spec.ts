// The core's memory: what the request path does not use is loaded only when
// configured (metrics_address: prom-client; static files: send and
// mime-types; TLS: tls, https, http2; config files: cosmiconfig, read by the
// watchdog). Each of them costs the core's RSS 1-10 MiB. A real node process
// loads the core's modules as core-main does, before any option is applied.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const PROBE = join(import.meta.dirname, '../fixtures/lazy-modules/probe.ts');

describe('the core loads what only some configurations use lazily', () => {
  it('starts without prom-client, send, mime-types, cosmiconfig, tls, https, http2 or zlib', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', PROBE], { encoding: 'utf8', timeout: 30_000 })) as { packages: string[]; builtins: string[] };
    expect(out.packages).to.include('tapable'); // the probe sees packages at all
    for (const p of ['prom-client', 'send', 'mime-types', 'cosmiconfig']) expect(out.packages, p).to.not.include(p);
    for (const m of ['tls', 'https', 'http2', 'zlib']) expect(out.builtins, m).to.not.include(m);
  });
});
