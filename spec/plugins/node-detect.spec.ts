// Finding a Node app's startup file in the layouts people have: package.json
// "main", else the file "scripts.start" runs with node, else index.js,
// server.js or app.js; each answer says why, and `passenger detect` shows it.
import { expect } from 'chai';
import { join } from 'node:path';
import { resolveAppSpec } from '../../core/config/resolve-app.ts';
import { PassengerError } from '../../core/errors/passenger-error.ts';
import { scriptOfStartCommand } from '../../plugins/node/detect.ts';
import { bootedKernel } from '../support/kernel.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { passengerCommand } from '../support/passenger.ts';

const kernel = bootedKernel();
const pkg = (o: object) => JSON.stringify(o);

async function detect(files: Record<string, string>) {
  const dir = makeApp(files);
  const spec = await resolveAppSpec(kernel, { appRoot: dir, env: {} });
  return { dir: spec.appRoot, type: spec.appType, startup: spec.startupFile.slice(spec.appRoot.length + 1), reason: spec.detectReason };
}

describe('Node app detection', () => {
  afterEach(removeApps);

  it('package.json "main" first', async () => {
    const d = await detect({ 'package.json': pkg({ main: 'lib/start.js', scripts: { start: 'node server.js' } }), 'lib/start.js': '', 'server.js': '', 'app.js': '' });
    expect(d).to.include({ type: 'node', startup: 'lib/start.js', reason: 'package.json "main" is lib/start.js' });
  });

  it('without "main", the file "scripts.start" runs with node, before the conventional names', async () => {
    const d = await detect({ 'package.json': pkg({ scripts: { start: 'NODE_ENV=production node --enable-source-maps srv/boot.js --port 1' } }), 'srv/boot.js': '', 'index.js': '', 'app.js': '' });
    expect(d).to.include({ type: 'node', startup: 'srv/boot.js' });
    expect(d.reason).to.equal('package.json has no "main"; "scripts.start" (NODE_ENV=production node --enable-source-maps srv/boot.js --port 1) runs srv/boot.js');
  });

  it('then index.js, server.js, app.js, in that order, saying what was passed over', async () => {
    expect(await detect({ 'package.json': pkg({ name: 'x' }), 'index.js': '', 'server.js': '', 'app.js': '' })).to.include({ startup: 'index.js', reason: 'package.json has no "main"; no "scripts.start"; found index.js' });
    expect(await detect({ 'package.json': pkg({ scripts: { start: 'next start' } }), 'server.js': '', 'app.js': '' })).to.include({ startup: 'server.js', reason: 'package.json has no "main"; "scripts.start" (next start) does not run node FILE; found server.js' });
    expect(await detect({ 'package.json': pkg({ main: 'gone.js' }), 'app.js': '' })).to.include({ startup: 'app.js', reason: 'package.json "main" names gone.js, which does not exist; no "scripts.start"; found app.js' });
    expect(await detect({ 'server.js': '' })).to.include({ type: 'node', startup: 'server.js', reason: 'found server.js' });
  });

  it('says what each app type looked for when nothing matches, not "main.js" alone', async () => {
    const dir = makeApp({ 'package.json': pkg({ name: 'x' }), 'main.js': '' });
    let e: unknown;
    try { await resolveAppSpec(kernel, { appRoot: dir, env: {} }); } catch (err) { e = err; }
    expect(e).to.be.instanceOf(PassengerError);
    const msg = (e as PassengerError).message;
    expect((e as PassengerError).code).to.equal('PSG_ERR_DETECT_NO_MATCH');
    expect(msg).to.include('package.json "main", or the file its "scripts.start" runs with node, or index.js, server.js, app.js (Node.js)');
    expect(msg).to.include('main.js next to programs/server/ (a bundle) (Meteor)');
  });

  it('reads only plain `node FILE` start scripts', () => {
    expect(scriptOfStartCommand('node server.js')).to.equal('server.js');
    expect(scriptOfStartCommand('node --inspect=0 dist/main.mjs')).to.equal('dist/main.mjs');
    expect(scriptOfStartCommand('node -r dotenv/config app.js')).to.equal(undefined);
    expect(scriptOfStartCommand('nodemon app.js')).to.equal(undefined);
    expect(scriptOfStartCommand('node app.js && echo done')).to.equal('app.js');
    expect(scriptOfStartCommand('node $ENTRY')).to.equal(undefined);
  });

  it('passenger detect prints the reason', async () => {
    const dir = makeApp({ 'package.json': pkg({ scripts: { start: 'node web.js' } }), 'web.js': '' });
    const r = await passengerCommand(['detect', dir]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/startup file\s+\S*web\.js/);
    expect(r.stdout).to.match(/why\s+package\.json has no "main"; "scripts\.start" \(node web\.js\) runs web\.js/);
    const json = await passengerCommand(['detect', dir, '--json']);
    expect(JSON.parse(json.stdout)).to.include({ appType: 'node', startupFile: join(JSON.parse(json.stdout).appRoot, 'web.js') });
  });
});
