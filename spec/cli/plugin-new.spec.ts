// `passenger plugin new`: the package it writes works as it stands. The round
// trip an author makes: scaffold, `npm install` (passenger-ts from this
// repository's `npm pack` tarball, mocha from this repository's copy, their
// dependencies from npm's cache where npm ci put them), the type check of index.js, the package's own `npm test`; then
// the publish side: `npm pack` the plugin, install both tarballs into an app
// that names the plugin in its configuration, and the installed server serves it.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { passengerCommand, repoRoot } from '../support/passenger.ts';
import { packedTarball } from '../support/packed.ts';

const npm = (dir: string, ...args: string[]) => execFileSync('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });

describe('passenger plugin new', function () {
  this.timeout(180000);
  let work: string;
  let plugin: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'psg-plugin-new-'));
    plugin = join(work, 'passenger-plugin-smoke-lang');
    const r = await passengerCommand(['plugin', 'new', 'smoke-lang', '--dir', plugin]);
    expect(r.code, r.stderr).to.equal(0);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  it('writes the package: peer and dev dependency on passenger-ts, a test script, the files of a plugin', () => {
    const pkg = JSON.parse(readFileSync(join(plugin, 'package.json'), 'utf8'));
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    const range = `^${version.split('.').slice(0, 2).join('.')}.0`;
    expect(pkg.name).to.equal('passenger-plugin-smoke-lang');
    expect(pkg.peerDependencies).to.deep.equal({ 'passenger-ts': range });
    expect(pkg.devDependencies['passenger-ts']).to.equal(range);
    expect(pkg.devDependencies.mocha).to.be.a('string');
    expect(pkg.dependencies).to.equal(undefined);
    expect(pkg.keywords).to.include('passenger-plugin');
    const index = readFileSync(join(plugin, 'index.js'), 'utf8');
    expect(index).to.match(/^\/\/ @ts-check/);
    expect(index).to.include("const NAME = 'smoke-lang';");
    expect(index).to.include('apiVersion: 2,');
    expect(index).to.include("const INTERPRETER_OPTION = 'smoke_lang_interpreter';");
    expect(index).not.to.match(/__[A-Z_]+__/);
    expect(readFileSync(join(plugin, 'test/fixture/smoke-lang-app.js'), 'utf8')).to.include('process.env.PORT');
    expect(readFileSync(join(plugin, 'test/plugin.spec.js'), 'utf8')).to.include("from 'passenger-ts/testing'");
    expect(readFileSync(join(plugin, 'README.md'), 'utf8')).to.include('npm install passenger-ts passenger-plugin-smoke-lang');
    expect(readFileSync(join(plugin, '.gitignore'), 'utf8')).to.include('node_modules/');
  });

  it("installs, type-checks, and passes its own npm test", () => {
    // As published, the devDependencies come from the registry; here from this checkout.
    const pkgFile = join(plugin, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
    pkg.devDependencies = { 'passenger-ts': `file:${packedTarball()}`, mocha: `file:${join(repoRoot, 'node_modules/mocha')}` };
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    npm(plugin, 'install');
    const tsc = spawnSync(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: plugin, encoding: 'utf8' });
    expect(tsc.status, `${tsc.stdout}${tsc.stderr}`).to.equal(0);
    const test = spawnSync('npm', ['test'], { cwd: plugin, encoding: 'utf8', timeout: 120000 });
    const out = `${test.stdout}${test.stderr}`;
    expect(out, out).to.match(/3 passing/);
    expect(out).not.to.match(/failing/);
    expect(test.status, out).to.equal(0);
  });

  it('is type-checked: a wrong field in index.js fails the check, naming it', () => {
    const broken = join(work, 'broken');
    cpSync(plugin, broken, { recursive: true, dereference: false });
    const index = join(broken, 'index.js');
    writeFileSync(index, readFileSync(index, 'utf8').replace("protocol: 'http_session'", "protocl: 'http_session'"));
    const tsc = spawnSync(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: broken, encoding: 'utf8' });
    expect(tsc.status).to.equal(1);
    expect(tsc.stdout).to.match(/index\.js\(\d+,\d+\): error .*protocl/);
  });

  it('packs, and an app that installs both tarballs and names the plugin is served by it', async () => {
    const pluginTarball = join(work, npm(plugin, 'pack', '--pack-destination', work).trim().split('\n').pop()!);
    const app = join(work, 'app');
    mkdirSync(app);
    cpSync(join(plugin, 'test/fixture/smoke-lang-app.js'), join(app, 'smoke-lang-app.js'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    writeFileSync(join(app, 'Passengerfile.json'), JSON.stringify({ plugins: ['smoke-lang'] }));
    npm(app, 'install', packedTarball(), pluginTarball);
    // The installed package's own test kit runs the installed bin.
    const kit = await import(join(app, 'node_modules/passenger-ts/dist/testing/index.js')) as typeof import('../../testing/index.ts');
    const detect = await kit.runPassenger(['detect', app]);
    expect(detect.stdout, detect.stderr).to.match(/Smoke Lang/);
    const server = await kit.startServer(app);
    try {
      const res = await server.fetch('/from-the-app');
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('hello from smoke-lang on /from-the-app\n');
    } finally {
      await server.stop();
    }
  });

  it('refuses a name that is no package name, and a directory that is not empty, saying why', async () => {
    const bad = await passengerCommand(['plugin', 'new', 'Smoke_Lang', '--dir', join(work, 'x')]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('PSG_ERR_USAGE: plugin name "Smoke_Lang": use lower-case letters');
    const taken = await passengerCommand(['plugin', 'new', 'other', '--dir', plugin]);
    expect(taken.code).to.equal(2);
    expect(taken.stderr).to.include(`${plugin} already exists and is not empty`);
    const usage = await passengerCommand(['plugin', 'make', 'x']);
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.include('usage: passenger plugin new NAME [--dir DIR]');
  });
});
