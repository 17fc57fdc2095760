// The install story: `npm pack` (prepare builds dist/ with tsc), then
// `npm install -g --prefix <tmp> <tarball>` as a user would, and the
// installed `passenger` command serves an app. The tarball holds what the
// command needs and none of the sources of the specs.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { repoRoot } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { waitFor } from '../core/admin/instance-helpers.ts';

describe('installing the packed package', function () {
  this.timeout(180000);
  let work: string;
  let tarball: string;
  let prefix: string;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'psg-install-'));
    const name = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').pop()!;
    tarball = join(work, name);
    prefix = join(work, 'prefix');
    // Dependencies come from npm's cache when they are there (npm ci put them there), from the registry otherwise.
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: work, stdio: 'pipe' });
  });

  after(() => {
    rmSync(work, { recursive: true, force: true });
    removeApps();
  });

  it('packs the built CLI, the loaders and the docs, and no specs or TypeScript sources', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const f of ['bin/passenger.js', 'dist/core/cli/main.js', 'dist/core/cli/core-main.js', 'dist/plugins/index.js', 'helper-scripts/node-loader.cjs', 'helper-scripts/rack-loader.rb', 'helper-scripts/wsgi-loader.py', '.passengerrc.example', 'docs/signals.md', 'CHANGELOG.md', 'README.md']) {
      expect(files, f).to.include(f);
    }
    expect(files.filter((f) => f.startsWith('spec/') || f.startsWith('bench/') || f.startsWith('core/') || f.startsWith('plugins/'))).to.deep.equal([]);
  });

  it('puts a working passenger command on PATH that serves an app', async () => {
    const bin = join(prefix, 'bin', 'passenger');
    expect(existsSync(bin)).to.equal(true);
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).to.match(/^passenger \d+\.\d+\.\d+/);
    const app = makeApp({ 'server.js': `require('http').createServer((q, s) => s.end('installed ' + require.resolve('http'))).listen(3000);\n`, 'package.json': '{"scripts":{"start":"node server.js"}}' });
    const registry = mkdtempSync(join(work, 'registry-'));
    const port = await getPort({ host: '127.0.0.1' });
    // As a user would: the installed command found on PATH, not this repository's.
    const child = spawn('passenger', ['run', app, '--port', String(port), '--instance-registry-dir', registry], {
      cwd: app, env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => { out += d; });
    child.stderr!.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor(() => /serving .* on http:/.test(out) || child.exitCode !== null, 30000, 'the installed passenger to serve');
      expect(out).to.match(/serving .* on http:/);
      const body = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      expect(body).to.equal('installed http');
      const instance = readdirSync(registry).find((n) => n.startsWith('passenger.'))!;
      // The core runs from the installed package, not from this repository.
      const props = JSON.parse(readFileSync(join(registry, instance, 'properties.json'), 'utf8')) as { corePid: number };
      expect(readFileSync(`/proc/${props.corePid}/cmdline`, 'utf8')).to.include(join(prefix, 'lib/node_modules/passenger-ts/dist/core/cli/core-main.js'));
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    }
    expect(readdirSync(registry).filter((n) => n.startsWith('passenger.'))).to.deep.equal([]);
  });
});
