// Precedence, lowest first: defaults < config file < PASSENGER_* environment
// variables < command-line flags < per-request SCGI parameters. The source of
// every value is kept, so `passenger detect` can say where it came from.
import type { OptionDef } from '../registries/options.ts';
import type { ConfigFile } from './search.ts';
import { unknownKeyError, validateValue } from './validate.ts';

export interface Layer {
  /** Shown in errors and in `passenger detect`: a file path, "env", "flag", "scgi". */
  kind: 'file' | 'env' | 'flag' | 'scgi';
  values: Record<string, unknown>;
  /** File path for kind "file". */
  path?: string;
  /** Values are text to be parsed into the option's type (env, SCGI, and flags). */
  asText: boolean;
}

export interface Merged {
  values: Record<string, unknown>;
  sources: Record<string, string>;
  /** One warning per deprecated name or option used, naming where. */
  deprecations: string[];
}

/** Every name an option answers to (its own first, then its former names) -> the option. */
function namesOf(defs: readonly OptionDef[]): Map<string, OptionDef> {
  const map = new Map<string, OptionDef>();
  for (const d of defs) map.set(d.name, d);
  for (const d of defs) for (const a of d.aliases ?? []) if (!map.has(a)) map.set(a, d);
  return map;
}

export function envVarName(option: string): string {
  return `PASSENGER_${option.toUpperCase()}`;
}

export function flagName(option: string): string {
  return `--${option.replaceAll('_', '-')}`;
}

function sourceOf(layer: Layer, key: string): string {
  switch (layer.kind) {
    case 'file': return layer.path!;
    case 'env': return `env ${envVarName(key)}`;
    case 'flag': return `flag ${flagName(key)}`;
    case 'scgi': return `SCGI param ${envVarName(key)}`;
  }
}

/** The PASSENGER_* variables that name known options; others are left alone (the environment is shared). */
export function envLayer(defs: readonly OptionDef[], env: NodeJS.ProcessEnv): Layer {
  const values: Record<string, unknown> = {};
  for (const def of defs) {
    const v = env[envVarName(def.name)];
    if (v !== undefined && v !== '') { values[def.name] = v; continue; }
    // A former name, when the current one is not set.
    for (const alias of def.aliases ?? []) {
      const old = env[envVarName(alias)];
      if (old !== undefined && old !== '') { values[alias] = old; break; }
    }
  }
  return { kind: 'env', values, asText: true };
}

export function fileLayer(file: ConfigFile | undefined): Layer | undefined {
  return file && { kind: 'file', values: file.values, path: file.path, asText: false };
}

export function mergeOptions(defs: readonly OptionDef[], layers: (Layer | undefined)[]): Merged {
  const byName = namesOf(defs);
  const known = defs.map((d) => d.name);
  const values: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  const deprecations: string[] = [];
  for (const def of defs) {
    if (def.default !== undefined) { values[def.name] = def.default; sources[def.name] = 'default'; }
  }
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, raw] of Object.entries(layer.values)) {
      if (key.startsWith('$')) continue; // cosmiconfig directives such as $import
      const def = byName.get(key);
      const source = sourceOf(layer, key);
      if (!def) throw unknownKeyError(key, layer.kind === 'file' ? layer.path! : source, known);
      if (key !== def.name) {
        // Both spellings in one layer: the current name wins.
        if (Object.hasOwn(layer.values, def.name)) { deprecations.push(`${source}: "${key}" is ignored: it is the former name of ${def.name}, which is also set`); continue; }
        deprecations.push(`${source}: "${key}" is deprecated; it is now called ${def.name} (${layer.kind === 'env' ? envVarName(def.name) : layer.kind === 'flag' ? flagName(def.name) : def.name})`);
      }
      if (def.deprecated) deprecations.push(`${source}: ${def.name} is deprecated: ${def.deprecated}`);
      values[def.name] = validateValue(def, raw, source, layer.asText);
      sources[def.name] = source;
    }
  }
  return { values, sources, deprecations };
}
