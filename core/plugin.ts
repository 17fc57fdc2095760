import { PassengerError } from './errors/passenger-error.ts';
import type { Kernel } from './kernel.ts';
import type { KernelHooks } from './hooks.ts';

/**
 * The plugin API version this server provides. A plugin declares the one it
 * targets; the server loads only plugins that target exactly this one. It
 * changes when a hook changes shape or meaning (never for additions); see
 * docs/plugins.md ("Versions").
 */
export const PLUGIN_API_VERSION = 2;

/** A plugin taps the kernel's hooks, synchronously, in `apply`. Made by a factory function. */
export interface Plugin {
  name: string;
  apiVersion: number;
  apply(kernel: Kernel): void;
}

/** The kernel as a plugin with options `O` sees it: `app.options` carries `O` in every per-app-type hook. */
export type PluginKernel<O extends object = {}> = Omit<Kernel, 'hooks'> & { readonly hooks: KernelHooks<O> };

/** What definePlugin takes: a plugin whose `apiVersion` defaults to the one this package provides. */
export interface PluginDefinition<O extends object = {}> {
  name: string;
  /** Write it out in a published plugin, so a server with another API refuses it by name. */
  apiVersion?: number;
  apply(kernel: PluginKernel<O>): void;
}

/**
 * Makes a plugin, with type inference. `O` types the options the plugin
 * registers, as `app.options` sees them: `definePlugin<{ python?: string }>({ ... })`.
 */
export function definePlugin<O extends object = {}>(definition: PluginDefinition<O>): Plugin {
  return { ...definition, apiVersion: definition.apiVersion ?? PLUGIN_API_VERSION } as unknown as Plugin;
}

/** Throws a coded error naming the plugin (or where it came from) when it is malformed. */
export function validatePlugin(candidate: unknown, origin: string): Plugin {
  const fail = (why: string) => {
    throw new PassengerError('PSG_ERR_PLUGIN_INVALID', `plugin ${origin} is not a valid plugin: ${why}`, { plugin: origin });
  };
  if (typeof candidate !== 'object' || candidate === null) fail(`expected an object { name, apiVersion, apply }, got ${candidate === null ? 'null' : typeof candidate}`);
  const p = candidate as Partial<Plugin>;
  if (typeof p.name !== 'string' || p.name === '') fail('"name" must be a non-empty string');
  if (typeof p.apply !== 'function') fail(`"apply" must be a function, got ${typeof p.apply}`);
  if (p.apiVersion !== PLUGIN_API_VERSION) {
    throw new PassengerError('PSG_ERR_PLUGIN_API_VERSION',
      `plugin ${p.name} (${origin}) targets plugin API ${String(p.apiVersion)}, this server provides ${PLUGIN_API_VERSION}` +
      (p.apiVersion === 1 ? ' (API 2 keys resolveLoader, buildSpawnCommand and enrichErrorReport by app type: hooks.resolveLoader.for(type).tap(...); see docs/plugins.md)' : ''),
      { plugin: p.name });
  }
  return p as Plugin;
}
