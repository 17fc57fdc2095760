// The promises the kernel and the plugin guard make to every plugin (docs/plugins.md):
// failures name the plugin and the hook, hung taps time out, names are unique,
// registries seal at boot, the API version is checked, hooks keyed by app type
// reach only their type, and options are shared or read only as declared.
import { expect } from 'chai';
import { Kernel } from '../../core/kernel.ts';
import { createLogger } from '../../core/log/logger.ts';
import { loadPlugin } from '../../core/plugin-loader.ts';
import { ANY_APP_TYPE, callBuildSpawnCommand, callEnrichErrorReport, callResolveLoader } from '../../core/hooks.ts';
import { PassengerError } from '../../core/errors/passenger-error.ts';
import { definePlugin, PLUGIN_API_VERSION, type Plugin, type PluginKernel } from '../../core/plugin.ts';
import type { AppSpec } from '../../core/config/app-spec.ts';
import type { SpawnCommand } from '../../core/spawn/spawn-command.ts';
import type { ErrorReport } from '../../core/errors/report.ts';
import { builtinPlugins } from '../../plugins/index.ts';
import { pythonOption } from '../../plugins/languages/index.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

function kernelWithLog(): { kernel: Kernel; lines: string[] } {
  const lines: string[] = [];
  return { kernel: new Kernel(createLogger('warn', (l) => lines.push(l))), lines };
}

function plugin(name: string, apply: (k: PluginKernel) => void): Plugin {
  return definePlugin({ name, apply });
}

function appType(name: string): Plugin {
  return plugin(`type-${name}`, (k) => k.hooks.registerAppTypes.tap(`type-${name}`, (r) => r.add({ name, displayName: name, startupFiles: [], protocol: 'session' })));
}

function app(type: string): AppSpec {
  return { appRoot: '/srv/x', name: 'x', appType: type, startupFile: '/srv/x/x', detectReason: 'spec', options: { environment: 'production' } as AppSpec['options'], sources: {} };
}

function thrown(fn: () => unknown): PassengerError {
  try { fn(); } catch (e) { if (e instanceof PassengerError) return e; throw e; }
  throw new Error('nothing was thrown');
}

async function rejected(p: Promise<unknown>): Promise<PassengerError> {
  try { await p; } catch (e) { if (e instanceof PassengerError) return e; throw e; }
  throw new Error('nothing was thrown');
}

describe('the kernel contract', () => {
  afterEach(removeApps);

  describe('the plugin guard', () => {
    it('a throwing tap is reported naming the plugin and the hook, keyed hooks with their key', async () => {
      const { kernel } = kernelWithLog();
      kernel.use(appType('spec'));
      kernel.use(plugin('thrower', (k) => {
        k.hooks.detectAppType.tap('thrower', () => { throw new Error('bad detect'); });
        k.hooks.resolveLoader.for('spec').tap('thrower', () => { throw new Error('bad loader'); });
      }));
      kernel.boot();
      const detect = await rejected(kernel.hooks.detectAppType.promise({ appRoot: '/x', options: {}, exists: async () => false, readFile: async () => undefined, nearMiss: () => {} }));
      expect(detect.code).to.equal('PSG_ERR_PLUGIN');
      expect(detect.message).to.equal('plugin thrower failed in hook detectAppType: bad detect');
      const loader = await rejected(callResolveLoader(kernel.hooks, app('spec'), 'direct'));
      expect(loader.message).to.equal("plugin thrower failed in hook resolveLoader.for('spec'): bad loader");
      expect(loader.details).to.include({ plugin: 'thrower', hook: "resolveLoader.for('spec')" });
    });

    it('a throwing enrichErrorReport tap is logged and skipped; the next tap gets the report', async () => {
      const { kernel, lines } = kernelWithLog();
      kernel.use(appType('spec'));
      kernel.use(plugin('enricher', (k) => {
        k.hooks.enrichErrorReport.for('spec').tap('enricher', () => { throw new Error('oops'); });
        k.hooks.enrichErrorReport.for(ANY_APP_TYPE).tap('enricher', (r) => { r.hints.push({ title: 'every type', body: '' }); return r; });
      }));
      kernel.boot();
      const report = await callEnrichErrorReport(kernel.hooks, { appType: 'spec', hints: [] } as unknown as ErrorReport, { app: app('spec'), output: [] });
      expect(report.hints.map((h) => h.title)).to.deep.equal(['every type']);
      expect(lines).to.deep.equal(["[passenger] ERROR: plugin enricher failed in hook enrichErrorReport.for('spec'): oops"]);
    });

    it('a hung async tap times out naming the plugin and the hook', async function () {
      this.timeout(15000);
      const { kernel } = kernelWithLog();
      kernel.use(plugin('sleeper', (k) => k.hooks.detectAppType.tapPromise('sleeper', () => new Promise(() => {}))));
      kernel.boot();
      const e = await rejected(kernel.hooks.detectAppType.promise({ appRoot: '/x', options: {}, exists: async () => false, readFile: async () => undefined, nearMiss: () => {} }));
      expect(e.code).to.equal('PSG_ERR_PLUGIN_TIMEOUT');
      expect(e.message).to.equal('plugin sleeper did not finish hook detectAppType within 5000 ms');
    });
  });

  describe('registration', () => {
    it('a plugin name used twice fails, naming it; the core is a plugin too', () => {
      const { kernel } = kernelWithLog();
      kernel.use(plugin('twice', () => {}));
      expect(thrown(() => kernel.use(plugin('twice', () => {}), 'somewhere')).code).to.equal('PSG_ERR_PLUGIN_DUPLICATE');
      expect(thrown(() => kernel.use(plugin('passenger:core', () => {}))).message).to.include('"passenger:core"');
      expect(kernel.plugins.map((p) => p.name)).to.deep.equal(['passenger:core', 'twice']);
    });

    it('an app type or protocol registered twice fails, naming both plugins', () => {
      const { kernel } = kernelWithLog();
      kernel.use(appType('dup'));
      kernel.use(plugin('other', (k) => k.hooks.registerAppTypes.tap('other', (r) => r.add({ name: 'dup', displayName: 'x', startupFiles: [], protocol: 'session' }))));
      const e = thrown(() => kernel.boot());
      expect(e.details).to.include({ plugin: 'other', hook: 'registerAppTypes', pluginCode: 'PSG_ERR_PLUGIN_DUPLICATE' });
      expect(e.message).to.include('app type "dup" is registered twice (by type-dup and by other)');
      const k2 = kernelWithLog().kernel;
      k2.use(plugin('proto', (k) => k.hooks.registerProtocols.tap('proto', (r) => r.add({ name: 'session', forward: async () => ({ ok: true }) }))));
      expect(thrown(() => k2.boot()).message).to.equal('plugin proto failed in hook registerProtocols: protocol "session" is registered twice (by the core and by proto)');
    });

    it('the core options and protocols come from the passenger:core plugin', () => {
      const { kernel } = kernelWithLog();
      kernel.boot();
      expect(kernel.options.get('max_pool_size')?.owner).to.equal('passenger:core');
      expect(kernel.protocols.list().map((p) => [p.name, p.owner])).to.deep.equal([['session', 'passenger:core'], ['http_session', 'passenger:core']]);
    });

    it('registries are sealed after boot, and no plugin is added after it', () => {
      const { kernel } = kernelWithLog();
      kernel.boot();
      expect(thrown(() => kernel.options.add({ name: 'late', type: 'string', scope: 'app', doc: 'x' })).message).to.include('after boot');
      expect(thrown(() => kernel.options.use('port')).message).to.include('after boot');
      expect(thrown(() => kernel.appTypes.add({ name: 'late', displayName: 'x', startupFiles: [], protocol: 'session' })).message).to.include('after boot');
      expect(thrown(() => kernel.protocols.add({ name: 'late', forward: async () => ({ ok: true }) })).message).to.include('after boot');
      expect(thrown(() => kernel.use(plugin('late', () => {}), 'a spec')).message).to.equal('plugin from a spec was added after boot');
    });

    it('a plugin for another API version is refused, naming it and both versions; API 1 is told what changed', () => {
      const { kernel } = kernelWithLog();
      const e = thrown(() => kernel.use({ name: 'old', apiVersion: 1, apply() {} }, 'old.mjs'));
      expect(e.code).to.equal('PSG_ERR_PLUGIN_API_VERSION');
      expect(e.message).to.include('plugin old (old.mjs) targets plugin API 1, this server provides 2').and.include('.for(type)');
      expect(thrown(() => kernel.use({ name: 'future', apiVersion: 3, apply() {} })).message).to.equal('plugin future (built-in) targets plugin API 3, this server provides 2');
    });

    it('definePlugin fills in the API version it comes with, and keeps one written out', () => {
      expect(definePlugin({ name: 'a', apply() {} }).apiVersion).to.equal(PLUGIN_API_VERSION);
      expect(definePlugin({ name: 'b', apiVersion: 7, apply() {} }).apiVersion).to.equal(7);
    });
  });

  describe('hooks keyed by app type', () => {
    it('reach only apps of their type; the "*" taps run after them, for every type', async () => {
      const { kernel } = kernelWithLog();
      kernel.use(appType('one'));
      kernel.use(appType('two'));
      const seen: string[] = [];
      kernel.use(plugin('p', (k) => {
        k.hooks.resolveLoader.for('one').tap('p', () => ({ command: 'one', args: [], readiness: { kind: 'handshake' } }));
        k.hooks.buildSpawnCommand.for('one').tap('p', (c) => { seen.push('one'); c.env.ONE = '1'; return c; });
        k.hooks.buildSpawnCommand.for(ANY_APP_TYPE).tap('p', (c, a) => { seen.push(`any:${a.appType}`); c.env.ANY = '1'; return c; });
      }));
      kernel.boot();
      expect((await callResolveLoader(kernel.hooks, app('one'), 'direct'))?.command).to.equal('one');
      expect(await callResolveLoader(kernel.hooks, app('two'), 'direct')).to.equal(undefined);
      const cmd = () => ({ env: {} }) as unknown as SpawnCommand;
      expect((await callBuildSpawnCommand(kernel.hooks, cmd(), app('one'))).env).to.deep.equal({ ONE: '1', ANY: '1' });
      expect((await callBuildSpawnCommand(kernel.hooks, cmd(), app('two'))).env).to.deep.equal({ ANY: '1' });
      expect(seen).to.deep.equal(['one', 'any:one', 'any:two']);
    });

    it('a tap for an app type nobody registers is warned about at boot, naming the plugin', () => {
      const { kernel, lines } = kernelWithLog();
      kernel.use(plugin('typo', (k) => k.hooks.resolveLoader.for('rakc').tap('typo', () => undefined)));
      kernel.boot();
      expect(lines).to.deep.equal([`[passenger] WARN: plugin typo taps resolveLoader.for('rakc'), but no plugin registers app type "rakc": that tap never runs`]);
    });

    it('the built-in plugins answer only for their own type', async () => {
      const { kernel } = kernelWithLog();
      for (const p of builtinPlugins()) kernel.use(p);
      kernel.boot();
      for (const type of ['rack', 'wsgi', 'node']) {
        const taps = kernel.hooks.resolveLoader.get(type)!.taps.map((t) => t.name);
        expect(taps, type).to.have.length(1);
      }
      expect(kernel.hooks.resolveLoader.get(ANY_APP_TYPE)).to.equal(undefined);
    });
  });

  describe('options of other plugins', () => {
    const sharing = (name: string, def = pythonOption) => plugin(name, (k) => k.hooks.registerOptions.tap(name, (r) => r.add(def)));

    it('a shared option is declared by several plugins, and lists the others as its users', () => {
      const { kernel } = kernelWithLog();
      for (const p of builtinPlugins()) kernel.use(p);
      kernel.use(sharing('asgi'));
      kernel.boot();
      const def = kernel.options.get('python')!;
      expect(def.owner).to.equal('passenger:wsgi');
      expect(def.usedBy).to.deep.equal(['asgi']);
    });

    it('a shared option declared differently fails, naming both plugins and the field', () => {
      const { kernel } = kernelWithLog();
      for (const p of builtinPlugins()) kernel.use(p);
      kernel.use(sharing('asgi', { ...pythonOption, default: 'python3.12' }));
      const e = thrown(() => kernel.boot());
      expect(e.details.pluginCode).to.equal('PSG_ERR_PLUGIN_DUPLICATE');
      expect(e.message).to.include('shared option "python" is declared differently by passenger:wsgi and by asgi: default is undefined and "python3.12"');
    });

    it('an option that is not shared still fails when registered again, saying how to read it instead', () => {
      const { kernel } = kernelWithLog();
      for (const p of builtinPlugins()) kernel.use(p);
      kernel.use(sharing('rubyist', { name: 'ruby', type: 'string', scope: 'app', doc: 'x', shared: true }));
      const e = thrown(() => kernel.boot());
      expect(e.message).to.include('passenger:rack does not declare it shared').and.include('options.use("ruby")');
    });

    it('options.use() reads another plugin\'s option, and fails the boot when no plugin registers it', () => {
      const { kernel } = kernelWithLog();
      for (const p of builtinPlugins()) kernel.use(p);
      kernel.use(plugin('reader', (k) => k.hooks.registerOptions.tap('reader', (r) => r.use('ruby'))));
      kernel.boot();
      expect(kernel.options.get('ruby')?.usedBy).to.deep.equal(['reader']);
      const k2 = kernelWithLog().kernel;
      k2.use(plugin('reader', (k) => k.hooks.registerOptions.tap('reader', (r) => r.use('elixir'))));
      const e = thrown(() => k2.boot());
      expect(e.message).to.equal('plugin reader uses option "elixir", which no plugin registers: install and add the plugin that provides it');
    });
  });

  describe('loading plugins', () => {
    it('a plugin whose passenger-ts import cannot be resolved gets PSG_ERR_PLUGIN_PEER_MISSING', async () => {
      const dir = makeApp({
        'peerless.mjs': "import { definePlugin } from 'passenger-ts';\nexport default () => definePlugin({ name: 'peerless', apply() {} });\n",
        'other.mjs': "import x from 'not-installed-anywhere';\nexport default () => x;\n",
      });
      const e = await rejected(loadPlugin('./peerless.mjs', dir));
      expect(e.code).to.equal('PSG_ERR_PLUGIN_PEER_MISSING');
      expect(e.message).to.include('imports passenger-ts, which cannot be found from its folder').and.include(`npm install passenger-ts in ${dir}`);
      expect((await rejected(loadPlugin('./other.mjs', dir))).code).to.equal('PSG_ERR_PLUGIN_INVALID');
    });
  });
});
