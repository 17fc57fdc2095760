// The metrics listener's small decisions: which addresses are loopback (the
// status page needs no password there), HTTP Basic with the read-only
// password, metrics_address parsing, and the docs listing every metric with
// its exact type and help text.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { basicAuthOk, isLoopback, parseMetricsAddress } from '../../../core/metrics/listener.ts';
import { Exposition } from '../../../core/metrics/exposition.ts';
import { MetricsCollector } from '../../../core/metrics/collector.ts';
import { Pool } from '../../../core/pool/pool.ts';
import { Kernel } from '../../../core/kernel.ts';
import { createLogger } from '../../../core/log/logger.ts';
import type { Spawner } from '../../../core/spawn/spawner.ts';
import { repoRoot } from '../../support/passenger.ts';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('metrics listener', () => {
  it('treats only loopback addresses as loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(h), h).to.equal(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).to.equal(false);
  });

  it('accepts HTTP Basic with the read-only password and any user name, and nothing else', () => {
    expect(basicAuthOk(basic('admin', 's3cret'), 's3cret')).to.equal(true);
    expect(basicAuthOk(basic('', 's3cret'), 's3cret')).to.equal(true);
    expect(basicAuthOk(basic('admin', 's3cre'), 's3cret')).to.equal(false);
    expect(basicAuthOk(basic('admin', 's3cret:x'), 's3cret')).to.equal(false);
    expect(basicAuthOk(`Bearer s3cret`, 's3cret')).to.equal(false);
    expect(basicAuthOk(undefined, 's3cret')).to.equal(false);
    expect(basicAuthOk('Basic !!!', 's3cret')).to.equal(false);
  });

  it('parses metrics_address, and names the option when it cannot', () => {
    expect(parseMetricsAddress('127.0.0.1:9469')).to.deep.equal({ host: '127.0.0.1', port: 9469 });
    expect(parseMetricsAddress('[::1]:0')).to.deep.equal({ host: '::1', port: 0 });
    for (const bad of ['9469', 'localhost', '127.0.0.1:', '127.0.0.1:99999', '::1:9469', 'host:port']) {
      expect(() => parseMetricsAddress(bad), bad).to.throw(/metrics_address: expected host:port/);
    }
  });

  it('documents every metric of ours in docs/metrics.md with its type and exact help text', async () => {
    const kernel = new Kernel(createLogger('error'));
    const spawner: Spawner = { spawn: () => Promise.reject(new Error('no spawns here')), close: async () => {} };
    const pool = new Pool(kernel, spawner, { maxPoolSize: 1, poolIdleTime: 0, processGraceMs: 100 }, () => Promise.reject(new Error('no refresh')));
    try {
      const text = (await new Exposition({ collector: new MetricsCollector(kernel, pool), pool, coreRestarts: 0 }).render(undefined)).body;
      const doc = readFileSync(join(repoRoot, 'docs/metrics.md'), 'utf8');
      const ours = [...text.matchAll(/^# HELP (passenger_\w+) (.*)\n# TYPE \1 (\w+)$/gm)];
      expect(ours).to.have.length(15);
      for (const [, name, help, type] of ours) {
        const row = new RegExp(`^\\| \`${name}\` \\| ${type} \\|[^|]*\\| (.*) \\|$`, 'm').exec(doc);
        expect(row, `docs/metrics.md has no row for ${name} (${type})`).to.not.equal(null);
        expect(row![1]!.startsWith(help!), `${name}: the docs say "${row![1]}", the help text is "${help}"`).to.equal(true);
      }
    } finally {
      await pool.shutdown();
    }
  });
});
