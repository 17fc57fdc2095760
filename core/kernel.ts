// The kernel: creates the hooks, applies plugins, and seals the registries.
// It holds no language-specific knowledge; plugins bring all of it.
import { ANY_APP_TYPE, createHooks, PER_APP_TYPE_HOOKS, type KernelHooks, type PerAppTypeHookName } from './hooks.ts';
import { Registry } from './registries/registry.ts';
import type { AppTypeDescriptor } from './registries/app-types.ts';
import { OptionRegistry } from './registries/option-registry.ts';
import type { Protocol } from './registries/protocols.ts';
import { validatePlugin, type Plugin } from './plugin.ts';
import { guardHook, type GuardOptions } from './plugin-guard.ts';
import { PassengerError } from './errors/passenger-error.ts';
import { createLogger, type Logger } from './log/logger.ts';
import { corePlugin } from './core-plugin.ts';
import { helperScript } from './paths.ts';
import { freePort } from './spawn/free-port.ts';
import type { Hook, HookMap, SyncHook } from 'tapable';

const guards: Record<keyof KernelHooks, GuardOptions> = {
  registerAppTypes: { mode: 'rethrow', timeoutMs: 0 },
  registerOptions: { mode: 'rethrow', timeoutMs: 0 },
  registerProtocols: { mode: 'rethrow', timeoutMs: 0 },
  detectAppType: { mode: 'rethrow', timeoutMs: 5000 },
  resolveLoader: { mode: 'rethrow', timeoutMs: 30000 },
  buildSpawnCommand: { mode: 'rethrow', timeoutMs: 30000 },
  enrichErrorReport: { mode: 'skip', timeoutMs: 5000 },
  started: { mode: 'rethrow', timeoutMs: 30000 },
  shutdown: { mode: 'skip', timeoutMs: 10000 },
  reload: { mode: 'skip', timeoutMs: 10000 },
  processSpawned: { mode: 'skip', timeoutMs: 0 },
  processExited: { mode: 'skip', timeoutMs: 0 },
  spawnFailed: { mode: 'skip', timeoutMs: 0 },
  queueFull: { mode: 'skip', timeoutMs: 0 },
  spawnStarted: { mode: 'skip', timeoutMs: 0 },
  requestStarted: { mode: 'skip', timeoutMs: 0 },
  requestFinished: { mode: 'skip', timeoutMs: 0 },
};

export class Kernel {
  readonly hooks: KernelHooks = createHooks();
  readonly appTypes = new Registry<AppTypeDescriptor>('app type');
  readonly options = new OptionRegistry();
  readonly protocols = new Registry<Protocol>('protocol');
  readonly log: Logger;
  readonly #plugins: Plugin[] = [];
  #booted = false;

  constructor(log: Logger = createLogger()) {
    this.log = log;
    const perType = new Set<string>(PER_APP_TYPE_HOOKS);
    for (const [name, opts] of Object.entries(guards)) {
      if (perType.has(name)) continue;
      guardHook(this.hooks[name as keyof KernelHooks] as unknown as Hook<unknown[], unknown>, name, opts, log);
    }
    // A per-app-type hook is made on the first for(type); each is guarded under the name a plugin wrote.
    for (const name of PER_APP_TYPE_HOOKS) {
      const map = this.hooks[name] as unknown as HookMap<Hook<unknown[], unknown>>;
      map.intercept({
        factory: (key: string, hook) => {
          guardHook(hook, `${name}.for('${key}')`, guards[name], log);
          this.#perTypeKeys.push([name, key, hook]);
          return hook;
        },
      });
    }
    // The core's options and protocols come from a plugin like everyone else's.
    this.use(corePlugin());
  }

  /** Every for(type) made so far, to find taps for app types nobody registers. */
  readonly #perTypeKeys: [PerAppTypeHookName, string, Hook<unknown[], unknown>][] = [];

  get plugins(): readonly Plugin[] { return this.#plugins; }

  /** A free TCP port on a loopback address (127.0.0.1 unless given). A port loader needs none: see portLoader. */
  freePort(host?: string): Promise<number> { return freePort(host); }

  /** The absolute path of a loader shipped with the server (helper-scripts/). */
  helperScript(name: string): string { return helperScript(name); }

  /** Validates and applies a plugin; `origin` says where it came from, for errors. */
  use(candidate: unknown, origin = 'built-in'): Plugin {
    if (this.#booted) throw new PassengerError('PSG_ERR_PLUGIN', `plugin from ${origin} was added after boot`);
    const plugin = validatePlugin(candidate, origin);
    const clash = this.#plugins.find((p) => p.name === plugin.name);
    if (clash) throw new PassengerError('PSG_ERR_PLUGIN_DUPLICATE', `two plugins are named "${plugin.name}" (the second from ${origin})`, { plugin: plugin.name });
    try {
      plugin.apply(this);
    } catch (e) {
      throw new PassengerError('PSG_ERR_PLUGIN', `plugin ${plugin.name} (${origin}) failed in apply(): ${e instanceof Error ? e.message : String(e)}`, { plugin: plugin.name }, { cause: e });
    }
    this.#plugins.push(plugin);
    return plugin;
  }

  /** Runs the register hooks once and seals the registries. */
  boot(): void {
    if (this.#booted) return;
    this.#booted = true;
    callStamped(this.hooks.registerAppTypes, this.appTypes);
    callStamped(this.hooks.registerOptions, this.options);
    callStamped(this.hooks.registerProtocols, this.protocols);
    this.appTypes.seal();
    this.options.seal();
    this.protocols.seal();
    this.#warnAboutUnknownAppTypes();
  }

  // A tap for an app type nobody registers never runs: a typo, or a plugin that is not installed.
  #warnAboutUnknownAppTypes(): void {
    for (const [hook, key, tapped] of this.#perTypeKeys) {
      if (key === ANY_APP_TYPE || this.appTypes.has(key)) continue;
      for (const tap of tapped.taps) {
        this.log.warn(`plugin ${tap.name} taps ${hook}.for('${key}'), but no plugin registers app type "${key}": that tap never runs`);
      }
    }
  }
}

// Tapable runs taps one at a time, so the tap being run is the plugin that
// adds items: stamp them with its name, for "registered twice by X and Y" errors.
function callStamped<R extends Registry<{ name: string; owner?: string }>>(hook: SyncHook<[R]>, registry: R): void {
  hook.intercept({ tap: (tap) => registry.setCurrentOwner(tap.name) });
  hook.call(registry);
  registry.setCurrentOwner(undefined);
}
