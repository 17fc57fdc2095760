// Turns raw option values (from a file, PASSENGER_* variables, flags or SCGI
// parameters) into typed ones. Every error names where the value came from,
// the key, what was expected and what was received.
import { PassengerError } from '../errors/passenger-error.ts';
import { editDistance } from '../util/edit-distance.ts';
import type { OptionDef } from '../registries/options.ts';

/** Where a value came from, as a user would look for it: a file path, `env PASSENGER_X`, `flag --x`. */
export type Source = string;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `${JSON.stringify(v)} (array)`;
  return `${JSON.stringify(v)} (${typeof v})`;
}

function expected(def: OptionDef): string {
  const min = def.min !== undefined ? ` >= ${def.min}` : '';
  switch (def.type) {
    case 'integer': return `an integer${min}`;
    case 'number': return `a number${min}${def.unit ? ` (${def.unit})` : ''}`;
    case 'boolean': return 'true or false';
    case 'string': return def.values ? `one of ${def.values.map((v) => `"${v}"`).join(', ')}` : 'a string';
    case 'string[]': return 'a list of strings';
    case 'plugins': return 'a list of plugin names or paths';
    case 'object': return 'an object of string values';
  }
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Parses a value given as text (env, flag, SCGI) into the option's type, or returns it unchanged if it cannot. */
function fromText(def: OptionDef, text: string): unknown {
  switch (def.type) {
    case 'integer': return /^-?\d+$/.test(text.trim()) ? Number(text) : text;
    case 'number': return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    case 'boolean': return TRUE.has(text.toLowerCase()) ? true : FALSE.has(text.toLowerCase()) ? false : text;
    case 'string[]':
    case 'plugins': return text.split(',').map((s) => s.trim()).filter(Boolean);
    case 'object':
      try { return JSON.parse(text) as unknown; } catch { return text; }
    default: return text;
  }
}

export function validateValue(def: OptionDef, raw: unknown, source: Source, asText: boolean): unknown {
  const value = asText && typeof raw === 'string' ? fromText(def, raw) : raw;
  const fail = (): never => {
    throw new PassengerError('PSG_ERR_CONFIG_TYPE', `${source}: ${def.name} must be ${expected(def)}, got ${describe(raw)}`,
      { source, key: def.name, expected: expected(def), received: raw });
  };
  switch (def.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || (def.min !== undefined && value < def.min)) fail();
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || (def.min !== undefined && value < def.min)) fail();
      break;
    case 'boolean':
      if (typeof value !== 'boolean') fail();
      break;
    case 'string':
      if (typeof value !== 'string' || (def.values && !def.values.includes(value))) fail();
      break;
    case 'string[]':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) fail();
      break;
    case 'plugins':
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' || (Array.isArray(v) && typeof v[0] === 'string') || (typeof v === 'object' && v !== null))) fail();
      break;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) fail();
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  }
  return value;
}

/** "did you mean" for an unknown key, from the known option names. */
export function nearestOption(key: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const norm = key.toLowerCase().replaceAll('-', '_');
  for (const name of known) {
    const d = editDistance(norm, name);
    if (d < bestDistance) { best = name; bestDistance = d; }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(norm.length / 4)) ? best : undefined;
}

export function unknownKeyError(key: string, source: Source, known: Iterable<string>, what = 'option'): PassengerError {
  const near = nearestOption(key, known);
  return new PassengerError('PSG_ERR_CONFIG_UNKNOWN_KEY',
    `${source}: "${key}" is not a known ${what}${near ? ` (did you mean "${near}"?)` : ''}`,
    { source, key, suggestion: near });
}
