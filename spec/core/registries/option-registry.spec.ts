// One namespace for option names and their aliases (each is a config key, a
// PASSENGER_* variable and a --flag): clashes between the core and plugins
// stop the boot naming both; a renamed option's former name keeps working
// in every layer, with a deprecation warning naming where it was used.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kernel } from '../../../core/kernel.ts';
import { createLogger } from '../../../core/log/logger.ts';
import { builtinPlugins } from '../../../plugins/index.ts';
import type { Plugin } from '../../../core/plugin.ts';
import type { OptionDef } from '../../../core/registries/options.ts';
import { resolveAppSpec } from '../../../core/config/resolve-app.ts';
import { flagLayer } from '../../../core/instance/boot.ts';
import { PassengerError } from '../../../core/errors/passenger-error.ts';
import { renderExampleConfig } from '../../../core/config/example-file.ts';
import { makeApp, removeApps } from '../../support/tmp-app.ts';
import { passengerCommand } from '../../support/passenger.ts';

function optionPlugin(name: string, ...defs: Omit<OptionDef, 'scope' | 'doc'>[]): Plugin {
  return {
    name, apiVersion: 2,
    apply(kernel) { kernel.hooks.registerOptions.tap(name, (r) => { for (const d of defs) r.add({ scope: 'app', doc: 'a spec option', ...d }); }); },
  };
}

function boot(...plugins: Plugin[]): Kernel {
  const kernel = new Kernel(createLogger('error'));
  for (const p of [...builtinPlugins(), ...plugins]) kernel.use(p);
  kernel.boot();
  return kernel;
}

function bootError(...plugins: Plugin[]): PassengerError {
  try { boot(...plugins); } catch (e) { if (e instanceof PassengerError) return e; throw e; }
  throw new Error('the boot succeeded');
}

describe('option registry', () => {
  afterEach(removeApps);

  describe('clashing names stop the boot, naming both registrants', () => {
    it('two plugins registering the same option', () => {
      const e = bootError(optionPlugin('plugin-a', { name: 'colour', type: 'string' }), optionPlugin('plugin-b', { name: 'colour', type: 'string' }));
      expect(e.details.pluginCode ?? e.code).to.equal('PSG_ERR_PLUGIN_DUPLICATE');
      expect(e.message).to.include('"colour"').and.include('plugin-a').and.include('plugin-b');
    });

    it('a plugin registering a core option', () => {
      const e = bootError(optionPlugin('plugin-a', { name: 'max_pool_size', type: 'integer' }));
      expect(e.details.pluginCode ?? e.code).to.equal('PSG_ERR_PLUGIN_DUPLICATE');
      expect(e.message).to.include('the core').and.include('plugin-a');
    });

    it('a plugin registering an option a built-in plugin has', () => {
      const e = bootError(optionPlugin('plugin-a', { name: 'ruby', type: 'string' }));
      expect(e.message).to.include('passenger:rack').and.include('plugin-a');
    });

    it('an alias equal to another option\'s name, or to another alias', () => {
      const e1 = bootError(optionPlugin('plugin-a', { name: 'colour', type: 'string', aliases: ['port'] }));
      expect(e1.details.pluginCode ?? e1.code).to.equal('PSG_ERR_PLUGIN_DUPLICATE');
      expect(e1.message).to.include('"port"').and.include('option port').and.include('option colour');
      const e2 = bootError(optionPlugin('plugin-a', { name: 'colour', type: 'string', aliases: ['color'] }), optionPlugin('plugin-b', { name: 'hue', type: 'string', aliases: ['color'] }));
      expect(e2.message).to.include('"color"').and.include('plugin-a').and.include('plugin-b');
      const e3 = bootError(optionPlugin('plugin-a', { name: 'colour', type: 'string', aliases: ['color'] }), optionPlugin('plugin-b', { name: 'color', type: 'string' }));
      expect(e3.message).to.include('"color"');
    });

    it('names that are not snake_case (they would clash as PASSENGER_* variables or flags)', () => {
      for (const bad of ['Colour', 'col-our', 'col__our', '_colour']) {
        const e = bootError(optionPlugin('plugin-a', { name: bad, type: 'string' }));
        expect(e.message, bad).to.include(`"${bad}"`).and.include('snake_case');
      }
    });

    it('the built-in table itself has no clash', () => {
      const names = boot().options.list().flatMap((d) => [d.name, ...(d.aliases ?? [])]);
      expect(new Set(names).size).to.equal(names.length);
    });
  });

  describe('a renamed option keeps its former name as a deprecated alias', () => {
    const renamed = () => boot(optionPlugin('plugin-a', { name: 'greeting_text', type: 'string', default: 'hi', aliases: ['greeting'] }));

    it('in a config file, PASSENGER_* and a flag, each with a warning naming where', async () => {
      const kernel = renamed();
      const fromFile = makeApp({ 'app.js': '', 'Passengerfile.json': JSON.stringify({ greeting: 'from file' }) });
      const a = await resolveAppSpec(kernel, { appRoot: fromFile, env: {} });
      expect(a.options.greeting_text).to.equal('from file');
      expect(a.sources.greeting_text).to.equal(join(a.appRoot, 'Passengerfile.json'));
      expect(a.deprecations).to.deep.equal([`${join(a.appRoot, 'Passengerfile.json')}: "greeting" is deprecated; it is now called greeting_text (greeting_text)`]);
      const b = await resolveAppSpec(kernel, { appRoot: makeApp({ 'app.js': '' }), env: { PASSENGER_GREETING: 'from env' } });
      expect(b.options.greeting_text).to.equal('from env');
      expect(b.deprecations![0]).to.equal('env PASSENGER_GREETING: "greeting" is deprecated; it is now called greeting_text (PASSENGER_GREETING_TEXT)');
      const c = await resolveAppSpec(kernel, { appRoot: makeApp({ 'app.js': '' }), env: {}, layers: [flagLayer({ greeting: 'from flag' })] });
      expect(c.options.greeting_text).to.equal('from flag');
      expect(c.deprecations![0]).to.equal('flag --greeting: "greeting" is deprecated; it is now called greeting_text (--greeting-text)');
    });

    it('the current name wins over the former one in the same layer, and no warning without the former name', async () => {
      const kernel = renamed();
      const both = makeApp({ 'app.js': '', 'Passengerfile.json': JSON.stringify({ greeting: 'old', greeting_text: 'new' }) });
      const s = await resolveAppSpec(kernel, { appRoot: both, env: {} });
      expect(s.options.greeting_text).to.equal('new');
      expect(s.deprecations![0]).to.include('"greeting" is ignored');
      const plain = await resolveAppSpec(kernel, { appRoot: makeApp({ 'app.js': '' }), env: { PASSENGER_GREETING_TEXT: 'x' } });
      expect(plain.deprecations).to.equal(undefined);
    });

    it('an option marked deprecated warns whenever it is set', async () => {
      const kernel = boot(optionPlugin('plugin-a', { name: 'old_knob', type: 'boolean', deprecated: 'it has no effect since 1.0; remove it' }));
      const s = await resolveAppSpec(kernel, { appRoot: makeApp({ 'app.js': '' }), env: { PASSENGER_OLD_KNOB: 'true' } });
      expect(s.deprecations).to.deep.equal(['env PASSENGER_OLD_KNOB: old_knob is deprecated: it has no effect since 1.0; remove it']);
    });

    it('.passengerrc.example names the former names', () => {
      expect(renderExampleConfig(renamed().options.list())).to.include('formerly greeting (deprecated names)');
    });

    it('passenger detect shows the warning for a flag given by its former name', async () => {
      const plugin = `export default () => ({ name: 'renamer', apiVersion: 2, apply(k) { k.hooks.registerOptions.tap('renamer', (r) => r.add({ name: 'greeting_text', type: 'string', scope: 'app', doc: 'x', aliases: ['greeting'] })); } });\n`;
      const app = makeApp({ 'app.js': '', 'renamer.mjs': plugin });
      writeFileSync(join(app, 'Passengerfile.json'), JSON.stringify({ plugins: ['./renamer.mjs'] }));
      const r = await passengerCommand(['detect', app, '--greeting', 'hello']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/deprecated\s+flag --greeting: "greeting" is deprecated; it is now called greeting_text \(--greeting-text\)/);
    });
  });
});
