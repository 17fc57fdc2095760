// Command-line parsing: `passenger <command> [DIR] [--option value | --option=value | --no-option]`.
// Option flags are the config options spelled with dashes; they are validated
// against the option registry once plugins are loaded, so typos get a suggestion.
import { PassengerError } from '../errors/passenger-error.ts';

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  /** snake_case option name -> text, or true/false for bare and --no- flags. */
  flags: Record<string, string | boolean>;
}

/** Flags that never take a value (CLI switches and boolean options). */
export function parseArgs(argv: string[], booleanFlags: ReadonlySet<string>): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg !== '-') {
        if (arg === '-h') { flags.help = true; continue; }
        if (arg === '-p' || arg === '-a') { flags[arg === '-p' ? 'port' : 'address'] = argv[++i] ?? ''; continue; }
        throw new PassengerError('PSG_ERR_USAGE', `unknown switch ${arg}`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const rawName = arg.slice(2, eq < 0 ? undefined : eq);
    const name = rawName.replaceAll('-', '_');
    if (eq >= 0) { flags[name] = arg.slice(eq + 1); continue; }
    if (name.startsWith('no_') && booleanFlags.has(name.slice(3))) { flags[name.slice(3)] = false; continue; }
    if (booleanFlags.has(name)) { flags[name] = true; continue; }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new PassengerError('PSG_ERR_USAGE', `--${rawName} needs a value`);
    flags[name] = value;
    i++;
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
