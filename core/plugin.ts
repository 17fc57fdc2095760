import { PassengerError } from './errors/passenger-error.ts';
import type { Kernel } from './kernel.ts';

/** The plugin API version this server provides. A plugin declares the one it targets. */
export const PLUGIN_API_VERSION = 1;

/** A plugin taps the kernel's hooks, synchronously, in `apply`. Made by a factory function. */
export interface Plugin {
  name: string;
  apiVersion: number;
  apply(kernel: Kernel): void;
}

/** Identity helper so plugin authors get type inference. */
export function definePlugin(plugin: Plugin): Plugin {
  return plugin;
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
      `plugin ${p.name} (${origin}) targets plugin API ${String(p.apiVersion)}, this server provides ${PLUGIN_API_VERSION}`,
      { plugin: p.name });
  }
  return p as Plugin;
}
