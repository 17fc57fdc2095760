// The plugin API as a third party uses it: a port-based plugin installed in
// the app directory (the Procfile plugin of docs/plugins.md, importing
// passenger-ts as its peer), near misses in detection, and `passenger detect`
// starting nothing and holding no port.
import { expect } from 'chai';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, passengerCommand, repoRoot, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { leftoverProcesses } from '../support/root-hooks.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

/** A copy of the Procfile fixture (its plugin and passenger-ts in node_modules) with another Procfile. */
function procfileApp(procfile: string): string {
  const dir = makeApp({});
  cpSync(fixtureApp('thirdparty-procfile'), dir, { recursive: true });
  writeFileSync(join(dir, 'Procfile'), procfile);
  // The shim of passenger-ts points at this checkout by a relative path: from here, by an absolute one.
  writeFileSync(join(dir, 'node_modules/passenger-ts/index.js'), `export * from ${JSON.stringify(join(repoRoot, 'core/index.ts'))};\n`);
  return dir;
}

describe('the plugin API, used by a third-party port-based plugin', function () {
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; removeApps(); });

  it('serves the web: line of a Procfile through passenger-plugin-procfile and portLoader', async () => {
    p = await startPassenger(fixtureApp('thirdparty-procfile'));
    const r = await fetch(`${p.url}/index.html`);
    expect(r.status).to.equal(200);
    expect(await r.text()).to.equal('served through the web: line of a Procfile\n');
  });

  it('passenger detect describes a port loader without picking a port or starting anything', async () => {
    for (const dir of [fixtureApp('thirdparty-procfile'), makeApp({ 'Passengerfile.json': JSON.stringify({ app_start_command: 'sleep 60' }) })]) {
      const r = await passengerCommand(['detect', dir, '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const result = JSON.parse(r.stdout) as { port: number | null; loader: string[] };
      expect(result.port, dir).to.equal(0);
      expect(result.loader[0]).to.equal('/bin/sh');
      expect(leftoverProcesses()).to.deep.equal([]);
    }
    const text = await passengerCommand(['detect', fixtureApp('thirdparty-procfile')]);
    expect(text.stdout).to.match(/^port +a free one, picked at each spawn \(\$PORT\)$/m);
  });

  it('reports a near miss when nothing claims the app: "found Procfile, but it has no web: line"', async () => {
    const r = await passengerCommand(['detect', procfileApp('worker: ./run-jobs\n')]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('found Procfile, but it has no "web:" line (Procfile (web: on $PORT)); looked for');
  });

  it('a near miss does not stop another plugin from claiming the app', async () => {
    const dir = procfileApp('worker: ./run-jobs\n');
    writeFileSync(join(dir, 'config.ru'), 'run ->(env) { [200, {}, ["rack"]] }\n');
    const r = await passengerCommand(['detect', dir, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { appType: string }).appType).to.equal('rack');
  });
});
