// Command-line parsing: `passenger <command> [DIR] [--option value | --option=value | --no-option | --switch [true|false]]`,
// on node:util's parseArgs (tokens mode). Option flags are the config options
// spelled with dashes and are open-ended: plugins named in the app's config
// add options only after the command line is read. parseArgs alone cannot
// parse such flags (with strict: false an unknown `--flag value` becomes a
// boolean and a positional), so its tokens are walked here: an unknown flag
// without `=` takes the positional that follows it. Names are validated
// against the option registry once plugins are loaded, so typos get a suggestion.
import { parseArgs as nodeParseArgs } from 'node:util';
import { PassengerError } from '../errors/passenger-error.ts';

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  /** snake_case option name -> text, or true/false for bare and --no- flags. */
  flags: Record<string, string | boolean>;
}

const SHORT: Readonly<Record<string, string>> = { h: 'help', p: 'port', a: 'address' };

/** Flags that may be given more than once; their values are joined with commas (nginx-config --upstream A --upstream B). */
const REPEATABLE: ReadonlySet<string> = new Set(['upstream']);

function setFlag(flags: Record<string, string | boolean>, name: string, value: string): void {
  const before = flags[name];
  flags[name] = REPEATABLE.has(name) && typeof before === 'string' ? `${before},${value}` : value;
}

/** `booleanFlags`: flags that never take a value (CLI switches and boolean options), snake_case. */
export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string>): ParsedArgs {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string', short: 'p' },
    address: { type: 'string', short: 'a' },
  };
  for (const name of booleanFlags) options[name.replaceAll('_', '-')] ??= { type: 'boolean' };
  const { tokens } = nodeParseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  const taken = new Set<number>();
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (!taken.has(token.index)) positionals.push(token.value);
      continue;
    }
    if (token.rawName.startsWith('-') && !token.rawName.startsWith('--') && !SHORT[token.rawName.slice(1)]) {
      throw new PassengerError('PSG_ERR_USAGE', `unknown switch ${token.rawName}`);
    }
    const name = token.name.replaceAll('-', '_');
    if (token.inlineValue) { setFlag(flags, name, token.value ?? ''); continue; }
    if (name.startsWith('no_') && booleanFlags.has(name.slice(3))) { flags[name.slice(3)] = false; continue; }
    if (booleanFlags.has(name)) {
      // `--ssl false` says false: read as a bare switch, the `false` would be dropped as a stray positional and the option turned on.
      const next = tokens[t + 1];
      if (next?.kind === 'positional' && next.index === token.index + 1 && (next.value === 'true' || next.value === 'false')) {
        flags[name] = next.value === 'true';
        taken.add(next.index);
      } else flags[name] = true;
      continue;
    }
    if (token.value !== undefined) {
      // A declared string option (-p 3000, --port 3000); parseArgs would take a following flag as its value.
      if (token.value.startsWith('-')) throw new PassengerError('PSG_ERR_USAGE', `${token.rawName} needs a value`);
      setFlag(flags, name, token.value);
      continue;
    }
    const next = tokens[t + 1];
    if (next?.kind !== 'positional' || next.index !== token.index + 1) {
      throw new PassengerError('PSG_ERR_USAGE', `${token.rawName} needs a value`);
    }
    setFlag(flags, name, next.value);
    taken.add(next.index);
  }
  const [command, ...rest] = positionals;
  return { command, positionals: rest, flags };
}

/** Removes CLI-only switches from the flags, returning their values. */
export function takeSwitches(flags: Record<string, string | boolean>, names: string[]): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const n of names) {
    out[n] = flags[n] === true;
    delete flags[n];
  }
  return out;
}
