// The build bundles the package (scripts/bundle.ts): the CLI, the core's
// process and the public entry points share chunks. A third-party plugin
// imports 'passenger-ts' on its own; the classes it gets must be the very
// ones the core checks with instanceof, in the watchdog's process and in the
// core's, or its errors would lose their codes. Runs the built CLI (dist/).
import { expect } from 'chai';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

const APP = `require('http').createServer((req, res) => res.end('up')).listen(3000);\n`;

/** A plugin whose tap on `hook` throws a PassengerError of its own, made by the package it imported. */
function throwingPlugin(hook: 'detectAppType' | 'started'): string {
  return `import { PassengerError } from 'passenger-ts';
export default () => ({
  name: 'identity', apiVersion: 2,
  apply(kernel) {
    // Before the built-in detectors, which would bail out first with a match.
    kernel.hooks.${hook}.tapPromise({ name: 'identity', stage: -1 }, async () => {
      throw new PassengerError('PSG_ERR_CONFIG_TYPE', 'thrown by the plugin in ${hook}', { plugin: 'identity', hook: '${hook}' });
    });
  },
});
`;
}

function appWithPlugin(hook: 'detectAppType' | 'started'): string {
  const app = makeApp({ 'app.js': APP, 'identity.mjs': throwingPlugin(hook), 'Passengerfile.json': JSON.stringify({ plugins: ['./identity.mjs'] }) });
  // As an app installs it: the package (this checkout, built) in the app's node_modules.
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(repoRoot, join(app, 'node_modules/passenger-ts'));
  return app;
}

describe('the built package: one copy of each class for the core and for plugins', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
  });
  after(() => removeApps());

  for (const [hook, where] of [['detectAppType', 'the CLI and watchdog'], ['started', 'the core']] as const) {
    it(`a plugin's PassengerError thrown in ${hook} (${where}) keeps its code`, async () => {
      p = await startPassenger(appWithPlugin(hook), { entry: join(repoRoot, 'bin/passenger.js'), expectExit: true });
      // A second copy of the class would fail instanceof: the error would be wrapped as PSG_ERR_PLUGIN.
      await p.waitForOutput(new RegExp(`PSG_ERR_CONFIG_TYPE: thrown by the plugin in ${hook}`));
      expect(p.output()).to.not.include('PSG_ERR_PLUGIN');
    });
  }
});
