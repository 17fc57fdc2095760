// The signal table of docs/signals.md, with a real server: SIGHUP reloads
// (a plugin's reload tap runs) and the server keeps serving, whether the
// watchdog or the core gets it; SIGQUIT stops gracefully like SIGTERM.
// (SIGUSR2, the upgrade: upgrade.spec.ts; SIGTERM's drain: graceful-drain.spec.ts.)
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { properties, waitFor } from '../core/admin/instance-helpers.ts';

const APP = `require('http').createServer((req, res) => res.end('up ' + process.pid)).listen(3000);\n`;
// A plugin whose reload tap writes down each reload and what asked for it.
const PROBE = `import { appendFileSync } from 'node:fs';
export default () => ({
  name: 'reload-probe', apiVersion: 2,
  apply(kernel) { kernel.hooks.reload.tapPromise('reload-probe', async (why) => appendFileSync(new URL('./reloads.log', import.meta.url), why + '\\n')); },
});
`;

describe('signals', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let app: string;
  const reloads = () => (existsSync(join(app, 'reloads.log')) ? readFileSync(join(app, 'reloads.log'), 'utf8').trim().split('\n') : []);

  before(async () => {
    app = makeApp({ 'app.js': APP, 'reload-probe.mjs': PROBE, 'Passengerfile.json': JSON.stringify({ plugins: ['./reload-probe.mjs'] }) });
    p = await startPassenger(app);
  });
  after(async () => {
    await stopAndClean(p);
    removeApps();
  });

  it('SIGHUP to the watchdog reloads through the core, and the server keeps serving', async () => {
    const corePid = properties(p!).corePid;
    process.kill(p!.child.pid!, 'SIGHUP');
    await waitFor(() => reloads().length === 1, 10000, 'the reload tap');
    expect(reloads()).to.deep.equal(['SIGHUP to the watchdog']);
    await p!.waitForOutput(/reloaded/);
    expect((await fetch(p!.url)).status).to.equal(200);
    expect(properties(p!).corePid, 'the same core').to.equal(corePid);
  });

  it('SIGHUP to the core does the same', async () => {
    process.kill(properties(p!).corePid!, 'SIGHUP');
    await waitFor(() => reloads().length === 2, 10000, 'the reload tap');
    expect(reloads()[1]).to.equal('SIGHUP to the core');
    expect((await fetch(p!.url)).status).to.equal(200);
  });

  it('SIGQUIT stops the server gracefully, removing the instance directory', async () => {
    expect(await p!.stop('SIGQUIT')).to.equal(0);
    expect(p!.instanceDirs()).to.deep.equal([]);
    expect(p!.output()).to.include('stopping (SIGTERM)');
  });
});
