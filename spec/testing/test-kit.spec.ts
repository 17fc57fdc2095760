// passenger-ts/testing as a plugin author uses it: the documented hello
// plugin in a directory of its own, passenger-ts installed there from the
// packed tarball (not this checkout), and the plugin's own mocha spec run
// there: the real server from the package's bin, requests, the leftover
// check, `passenger detect`, and the loader contract suite on its loader.
// A loader that leaves a process behind must fail every contract case.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp, repoRoot } from '../support/passenger.ts';
import { mochaCommand, npmInstall, packedTarball } from '../support/packed.ts';

describe('passenger-ts/testing from the packed package', function () {
  this.timeout(240000);
  let plugin: string;

  before(() => {
    plugin = mkdtempSync(join(tmpdir(), 'psg-testkit-plugin-'));
    cpSync(join(repoRoot, 'spec/fixtures/testkit-plugin'), plugin, { recursive: true });
    cpSync(join(fixtureApp('thirdparty-hello'), 'node_modules/passenger-plugin-hello/index.mjs'), join(plugin, 'index.mjs'));
    cpSync(join(fixtureApp('thirdparty-hello'), 'node_modules/passenger-plugin-hello/hello-loader.mjs'), join(plugin, 'hello-loader.mjs'));
    const pkg = JSON.parse(readFileSync(join(plugin, 'package.json'), 'utf8'));
    pkg.devDependencies = { 'passenger-ts': `file:${packedTarball()}` };
    writeFileSync(join(plugin, 'package.json'), JSON.stringify(pkg, null, 2));
    npmInstall(plugin);
  });

  after(() => rmSync(plugin, { recursive: true, force: true }));

  const mocha = (...files: string[]) => {
    const [node, bin] = mochaCommand();
    const r = spawnSync(node!, [bin!, '--no-config', '--reporter', 'spec', ...files], { cwd: plugin, encoding: 'utf8', timeout: 200000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };

  it('installs the test kit as an export of the package, built', () => {
    const installed = join(plugin, 'node_modules/passenger-ts');
    const exports = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).exports;
    expect(exports['./testing']).to.deep.equal({ types: './dist/testing/index.d.ts', default: './dist/testing/index.js' });
    expect(readFileSync(join(installed, 'dist/testing/index.d.ts'), 'utf8')).to.include('describeLoaderContract');
  });

  it("passes the plugin's own spec: server, requests, leftover check, detect and the loader contract", () => {
    const { code, out } = mocha('test/hello.spec.mjs');
    expect(out, out).to.match(/9 passing/);
    expect(out).not.to.match(/failing/);
    expect(out).to.include('loader contract (docs/protocols.md): hello-loader.mjs');
    expect(code, out).to.equal(0);
  });

  it('fails every contract case of a loader that leaves a process behind, naming it', () => {
    const { code, out } = mocha('test/leaky.contract.mjs');
    expect(out, out).to.match(/6 failing/);
    expect(out).to.match(/ 0 passing/);
    expect(out).to.match(/LeftoverProcessesError: the loader .*leaky-loader\.mjs left 1 process\(es\) behind/);
    expect(out).to.match(/\d+ sleep 30/);
    expect(code).to.equal(6);
  });
});
