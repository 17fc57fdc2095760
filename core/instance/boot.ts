// Boots a kernel for one app directory: built-in plugins, then the plugins its
// configuration names, then the registries are sealed and the app resolved.
// The CLI runs this to validate before starting anything; the core runs it to serve.
import { Kernel } from '../kernel.ts';
import type { Plugin } from '../plugin.ts';
import { type Logger, type LogFormat, type LogLevel } from '../log/logger.ts';
import { configuredLogger } from '../log/configured-logger.ts';
import { findConfigFile, type ConfigFile } from '../config/search.ts';
import { resolveAppRoot, resolveAppSpec } from '../config/resolve-app.ts';
import { envVarName, mergeOptions, type Layer } from '../config/merge.ts';
import { coreOptions } from '../config/schema.ts';
import type { AppSpec } from '../config/app-spec.ts';
import { loadPlugin, type PluginEntry } from '../plugin-loader.ts';
import { refusePluginsFromUntrustedFile, refuseRootOnlyOptions } from '../config/root-guard.ts';

export interface BootInput {
  builtins: Plugin[];
  appDir: string;
  /** Command-line options, as text. */
  flags: Record<string, string | boolean>;
  env: NodeJS.ProcessEnv;
  log?: Logger;
}

export interface Booted {
  kernel: Kernel;
  app: AppSpec;
  configFile: ConfigFile | undefined;
}

/** Core options that must be known before plugins load (which plugins, how loud), from the usual layers. */
interface Preliminary { plugins: PluginEntry[]; logLevel: LogLevel; logFormat: LogFormat; logFile: string | undefined }

const PRELIMINARY = new Set(['plugins', 'log_level', 'log_format', 'log_file']);

function preliminary(file: ConfigFile | undefined, flags: BootInput['flags'], env: NodeJS.ProcessEnv): Preliminary {
  const defs = coreOptions.filter((d) => PRELIMINARY.has(d.name));
  const pick = (values: Record<string, unknown> | undefined) => Object.fromEntries(defs.filter((d) => values?.[d.name] !== undefined).map((d) => [d.name, values![d.name]]));
  const envValues = Object.fromEntries(defs.filter((d) => env[envVarName(d.name)]).map((d) => [d.name, env[envVarName(d.name)]]));
  const layers: Layer[] = [
    ...(file ? [{ kind: 'file' as const, path: file.path, values: pick(file.values), asText: false }] : []),
    { kind: 'env', values: envValues, asText: true },
    { kind: 'flag', values: pick(flags), asText: true },
  ];
  const merged = mergeOptions(defs, layers);
  refusePluginsFromUntrustedFile(merged, file);
  const v = merged.values;
  return { plugins: v.plugins as PluginEntry[], logLevel: v.log_level as LogLevel, logFormat: v.log_format as LogFormat, logFile: v.log_file as string | undefined };
}

/** A flag layer: flags are text, validated against the sealed option registry. */
export function flagLayer(flags: BootInput['flags']): Layer {
  return { kind: 'flag', values: Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, typeof v === 'boolean' ? String(v) : v])), asText: true };
}

export async function bootForApp(input: BootInput): Promise<Booted> {
  const appRoot = await resolveAppRoot(input.appDir);
  const configFile = await findConfigFile(appRoot);
  const pre = preliminary(configFile, input.flags, input.env);
  const kernel = new Kernel(input.log ?? configuredLogger({ level: pre.logLevel, format: pre.logFormat, file: pre.logFile, appRoot }));
  for (const p of input.builtins) kernel.use(p);
  for (const entry of pre.plugins) {
    const { plugin, origin } = await loadPlugin(entry, appRoot);
    kernel.use(plugin, origin);
  }
  kernel.boot();
  const app = await resolveAppSpec(kernel, { appRoot, env: input.env, configFile: configFile ?? null, layers: [flagLayer(input.flags)] });
  // This app's file configures the whole instance, which root sets up.
  refuseRootOnlyOptions({ values: app.options, sources: app.sources }, configFile);
  return { kernel, app, configFile };
}
