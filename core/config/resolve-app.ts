// From an app directory and the options given on top of its config file to a
// complete AppSpec: options merged and validated, then the detectAppType hook.
import { realpath, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Kernel } from '../kernel.ts';
import { PassengerError } from '../errors/passenger-error.ts';
import type { DetectContext } from '../hooks.ts';
import type { AppSpec, CoreOptions } from './app-spec.ts';
import { findConfigFile, type ConfigFile } from './search.ts';
import { envLayer, fileLayer, mergeOptions, type Layer } from './merge.ts';
import { checkIdentityOptions } from './root-guard.ts';

export interface ResolveInput {
  appRoot: string;
  env?: NodeJS.ProcessEnv;
  /** Flags (and other overrides) above the config file and the environment. */
  layers?: Layer[];
  /** An already-read config file, to avoid reading it twice at start-up. */
  configFile?: ConfigFile | null;
}

export async function resolveAppRoot(dir: string): Promise<string> {
  try {
    const root = await realpath(dir);
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
    return root;
  } catch {
    throw new PassengerError('PSG_ERR_DETECT_NO_DIR', `app directory ${dir} does not exist or is not a directory`, { appRoot: dir });
  }
}

export async function resolveAppSpec(kernel: Kernel, input: ResolveInput): Promise<AppSpec> {
  const appRoot = await resolveAppRoot(input.appRoot);
  const file = input.configFile === undefined ? await findConfigFile(appRoot) : input.configFile ?? undefined;
  const merged = mergeOptions(kernel.options.list(), [fileLayer(file), envLayer(kernel.options.list(), input.env ?? process.env), ...(input.layers ?? [])]);
  checkIdentityOptions(merged, file);
  const nearMisses: string[] = [];
  const ctx: DetectContext = {
    appRoot,
    options: merged.values,
    exists: async (rel) => stat(join(appRoot, rel)).then(() => true, () => false),
    readFile: async (rel) => readFile(join(appRoot, rel), 'utf8').catch(() => undefined),
    nearMiss: (message) => { nearMisses.push(message); },
  };
  const match = await kernel.hooks.detectAppType.promise(ctx);
  if (!match) {
    const looked = kernel.appTypes.list().filter((t) => t.startupFiles.length > 0 || t.lookedFor).map((t) => `${t.lookedFor ?? t.startupFiles.join(' or ')} (${t.displayName})`).join('; ');
    throw new PassengerError('PSG_ERR_DETECT_NO_MATCH',
      `cannot tell what kind of app ${appRoot} is: ${nearMisses.map((m) => `${m}; `).join('')}looked for ${looked}; or set app_start_command to run any app that listens on $PORT`,
      { appRoot });
  }
  if (!kernel.appTypes.has(match.appType)) {
    throw new PassengerError('PSG_ERR_DETECT_NO_MATCH', `a detector answered app type "${match.appType}", which no plugin registered`, { appRoot });
  }
  const spec: AppSpec = {
    appRoot,
    name: typeof merged.values.app_name === 'string' && merged.values.app_name !== '' ? merged.values.app_name : basename(appRoot),
    appType: match.appType,
    startupFile: match.startupFile,
    detectReason: match.reason,
    options: merged.values as CoreOptions,
    sources: merged.sources,
  };
  if (file) spec.configFile = file.path;
  if (merged.deprecations.length > 0) spec.deprecations = merged.deprecations;
  return spec;
}
