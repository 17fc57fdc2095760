// Turns the `plugins` config entries into plugin objects. Names are resolved
// from the app directory, where the user installed them:
//   "elixir"        -> passenger-plugin-elixir (or a package literally named elixir)
//   "@acme/elixir"  -> @acme/passenger-plugin-elixir (or @acme/elixir)
//   "./my-plugin.mjs" -> a path relative to the app directory
// Each entry may be a name or [name, options]; the module's default export is
// a factory called with the options (or a plugin object itself).
// As root, a plugin file is imported only when no one but root can change it
// (the file and every directory above it): root never runs another user's code.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PassengerError } from './errors/passenger-error.ts';
import { describeControl, onlyRootControls, pathControl } from './security/path-control.ts';
import { isRoot } from './spawn/user-switch.ts';

export type PluginEntry = string | [string, unknown] | Record<string, unknown>;

function candidates(name: string): string[] {
  if (name.startsWith('@')) {
    const [scope, rest] = name.split('/');
    if (!rest) return [`${scope}/passenger-plugin`];
    return rest.startsWith('passenger-plugin') ? [name] : [`${scope}/passenger-plugin-${rest}`, name];
  }
  return name.startsWith('passenger-plugin-') ? [name] : [`passenger-plugin-${name}`, name];
}

/** The file a plugin name resolves to from `baseDir`, or an error listing what was tried. */
export function resolvePluginPath(name: string, baseDir: string): string {
  if (name.startsWith('.') || isAbsolute(name)) {
    const path = resolve(baseDir, name);
    if (!existsSync(path)) throw new PassengerError('PSG_ERR_PLUGIN_NOT_FOUND', `plugin "${name}": ${path} does not exist`, { plugin: name });
    return path;
  }
  const req = createRequire(join(baseDir, 'package.json'));
  const tried = candidates(name);
  for (const id of tried) {
    try {
      return req.resolve(id);
    } catch (e) {
      // A package whose exports only have an "import" condition cannot be require.resolve()d: find its entry by hand.
      const manual = resolveEsmOnly(id, baseDir);
      if (manual) return manual;
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' && (e as NodeJS.ErrnoException).code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw e;
    }
  }
  throw new PassengerError('PSG_ERR_PLUGIN_NOT_FOUND',
    `plugin "${name}" was not found: tried ${tried.map((t) => `"${t}"`).join(' and ')} from ${baseDir} (install it there with npm install ${tried[0]})`,
    { plugin: name, tried, baseDir });
}

function resolveEsmOnly(id: string, baseDir: string): string | undefined {
  for (let dir = baseDir; ; dir = resolve(dir, '..')) {
    const pkgDir = join(dir, 'node_modules', id);
    const pkgFile = join(pkgDir, 'package.json');
    if (existsSync(pkgFile)) {
      const pkg = createRequire(import.meta.url)(pkgFile) as { exports?: unknown; main?: string };
      const exp = pkg.exports as Record<string, unknown> | string | undefined;
      const dot = typeof exp === 'object' && exp !== null ? (exp['.'] ?? exp) : exp;
      const entry = typeof dot === 'string' ? dot : typeof dot === 'object' && dot !== null ? ((dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default) : pkg.main;
      return typeof entry === 'string' ? join(pkgDir, entry) : join(pkgDir, 'index.js');
    }
    if (dir === resolve(dir, '..')) return undefined;
  }
}

function refuseUnlessRootOnly(name: string, path: string): void {
  const control = pathControl(path);
  if (onlyRootControls(control)) return;
  throw new PassengerError('PSG_ERR_PLUGIN_UNSAFE',
    `plugin "${name}" (${path}): the server runs as root and does not load code that another user can change: ${describeControl(control)}; install the plugin where only root can write`,
    { plugin: name, file: path, controlledBy: control.users, ...(control.openTo !== undefined ? { openTo: control.openTo } : {}) });
}

/** Whether an import failed because the package `passenger-ts` (or a subpath of it) could not be resolved. */
function missesPeer(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException;
  return (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && /Cannot find (?:package|module) 'passenger-ts(?:\/[^']*)?'/.test(err.message);
}

/** Loads one configured plugin entry and returns what its factory made (validated by the kernel). */
export async function loadPlugin(entry: PluginEntry, baseDir: string): Promise<{ plugin: unknown; origin: string }> {
  if (!Array.isArray(entry) && typeof entry === 'object') return { plugin: entry, origin: 'the configuration' };
  const [name, options] = Array.isArray(entry) ? entry : [entry, undefined];
  const path = resolvePluginPath(name, baseDir);
  if (isRoot()) refuseUnlessRootOnly(name, path);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(path).href) as Record<string, unknown>;
  } catch (e) {
    if (missesPeer(e)) {
      throw new PassengerError('PSG_ERR_PLUGIN_PEER_MISSING',
        `plugin "${name}" (${path}) imports passenger-ts, which cannot be found from its folder: passenger-ts is a peer dependency of plugins; install it next to the plugin (npm install passenger-ts in ${baseDir}) or link this server's copy there (npm link passenger-ts)`,
        { plugin: name, file: path }, { cause: e });
    }
    throw new PassengerError('PSG_ERR_PLUGIN_INVALID', `plugin "${name}" (${path}) could not be loaded: ${(e as Error).message}`, { plugin: name }, { cause: e });
  }
  const exported = mod.default ?? mod.plugin;
  if (exported === undefined) {
    throw new PassengerError('PSG_ERR_PLUGIN_INVALID', `plugin "${name}" (${path}) has no default export: export a factory function that returns { name, apiVersion, apply }`, { plugin: name });
  }
  let plugin: unknown = exported;
  if (typeof exported === 'function') {
    try {
      plugin = await (exported as (o: unknown) => unknown)(options);
    } catch (e) {
      throw new PassengerError('PSG_ERR_PLUGIN_INVALID', `plugin "${name}" (${path}): its factory threw: ${(e as Error).message}`, { plugin: name }, { cause: e });
    }
  }
  return { plugin, origin: `"${name}" (${path})` };
}
