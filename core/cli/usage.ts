// What `passenger --help` and `passenger COMMAND --help` print: one row per
// command, so the global list and each command's own help never disagree.
import type { OptionDef } from '../registries/options.ts';
import { flagName } from '../config/merge.ts';
import { version } from '../paths.ts';

export interface CommandHelp {
  name: string;
  /** Arguments after the command name. */
  synopsis: string;
  summary: string;
  /** Paragraphs for the command's own help. */
  details: string;
  /** Its own flags (name, what it does); "options" commands also take every option of the table. */
  flags: [string, string][];
  takesOptions: boolean;
}

const INSTANCE_FLAGS: [string, string][] = [
  ['--instance NAME', 'the instance to talk to, when several run and the directory does not tell'],
  ['--instance-registry-dir DIR', 'where to look for instances (as given to run)'],
];
const CHOOSING = 'With several instances running, the one serving APP_DIR (or the working directory, or a directory above it) is chosen; otherwise name one with --instance NAME (the error lists them).';

export const COMMANDS: readonly CommandHelp[] = [
  { name: 'run', synopsis: '[APP_DIR] [options]', summary: 'serve the app in APP_DIR (default: .)', takesOptions: true,
    details: 'Detects the app type, starts the watchdog, the core and the app processes, and serves on --port (default 3000) and, for nginx, on an SCGI socket. Runs in the foreground: Ctrl-C or SIGTERM stops it gracefully, SIGHUP reloads (docs/signals.md). Under systemd it accepts the HTTP socket from socket activation (LISTEN_FDS).',
    flags: [['--debug', 'print stack traces of errors']] },
  { name: 'detect', synopsis: '[APP_DIR] [options] [--json]', summary: 'show what run would do, and why', takesOptions: true,
    details: 'Prints the app type and why it was chosen, the startup file, the loader command, the interpreter, the user it would run as and the configuration file, without starting anything.',
    flags: [['--json', 'the same as JSON']] },
  { name: 'status', synopsis: '[APP_DIR] [--json | --watch]', summary: 'the pool of a running instance: apps, processes (--watch: live)', takesOptions: false,
    details: `Shows the instance's addresses and, per app, its queue and processes (PID, state, sessions, requests, CPU, memory, uptime). ${CHOOSING}`,
    flags: [['--json', "the admin API's JSON"], ['--watch', 'redraw in place every second; q or Ctrl-C quits'], ...INSTANCE_FLAGS] },
  { name: 'stop', synopsis: '[APP_DIR]', summary: 'stop a running instance', takesOptions: false,
    details: `Asks the instance to stop gracefully and waits until it has. ${CHOOSING}`, flags: INSTANCE_FLAGS },
  { name: 'reload', synopsis: '[APP_DIR]', summary: 'reopen log files and reload the TLS certificate of a running instance', takesOptions: false,
    details: `Sends SIGHUP to the instance's watchdog, as logrotate's postrotate script should: log_file, access_log and app_log_file are reopened at their paths, and the certificate is read again; nothing stops serving. ${CHOOSING}`, flags: INSTANCE_FLAGS },
  { name: 'restart-app', synopsis: '[APP_DIR]', summary: 'rolling restart of one app of a running instance', takesOptions: false,
    details: `Replaces the app's processes one by one; the running ones serve until their replacements are ready. Without APP_DIR: the app the working directory is in, or the only app. ${CHOOSING}`, flags: INSTANCE_FLAGS },
  { name: 'nginx-config', synopsis: '[APP_DIR...]', summary: 'nginx server blocks for a running instance', takesOptions: false,
    details: "Prints server blocks for nginx's http {} block: static files from public/ by nginx, the rest to the instance's SCGI socket. Start the server with scgi_socket and scgi_secret_file, and the configuration survives its restarts. Warns when nginx's worker user cannot connect to the socket.",
    flags: [['--server-name NAME', "the server_name (default: the directory's name; one app only)"], ['--listen ADDR', 'the listen address (default: 80)'], ['--nginx-user USER', "nginx's worker user, to check its access to the socket (default: the user directive of /etc/nginx/nginx.conf)"],
      ['--check', 'also run nginx -t on it (in a temporary nginx.conf); exit 1 with nginx\'s message when it refuses it'],
      ['--upstream HOST:PORT', 'instead: a load balancer for hosts running passenger run (repeat it, one per host); needs no running instance here (docs/deploy.md)'],
      ['--upstream-protocol http|scgi', 'how nginx talks to those hosts (default: http; scgi needs APP_DIR and --scgi-secret-file)'],
      ['--scgi-secret-file FILE', "the hosts' scgi_secret_file (SCGI upstreams)"], ['--upstream-name NAME', "the upstream block's name (default: the app directory's name)"], ...INSTANCE_FLAGS] },
  { name: 'systemd-unit', synopsis: '[APP_DIR] [options]', summary: 'a systemd service unit that runs the app', takesOptions: true,
    details: 'Prints a service unit running `passenger run APP_DIR` with the options given (environment production unless configured); user and group become User= and Group=, so the whole server runs as that user. Save it as /etc/systemd/system/NAME.service.',
    flags: [['--check', 'also run systemd-analyze verify on it; exit 1 with its message on an error or a warning']] },
  { name: 'plugin', synopsis: 'new NAME [--dir DIR]', summary: 'start a plugin package: code, fixture app, tests, README', takesOptions: false,
    details: 'Writes passenger-plugin-NAME (or DIR): package.json with passenger-ts as peer dependency, a type-checked index.js for apps that listen on $PORT, a fixture app, a mocha spec using passenger-ts/testing, and a README. `npm install && npm test` passes as it stands. See docs/plugins.md.',
    flags: [['--dir DIR', 'where to write it (default: ./passenger-plugin-NAME); must not exist or be empty']] },
];

const FOOTER = `Options are the configuration keys with dashes (--max-pool-size 4); see
.passengerrc.example for all of them. Precedence: defaults < config file
(Passengerfile.json, .passengerrc*, passenger.config.*) < PASSENGER_*
environment variables < command-line options.`;

export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => `${c.name} ${c.synopsis}`.length));
  const rows = COMMANDS.map((c) => `  passenger ${`${c.name} ${c.synopsis}`.padEnd(width)}  ${c.summary}`);
  return `passenger ${version}: serve any web app.

Usage:
${rows.join('\n')}
  passenger --version

Run passenger COMMAND --help for a command's own help and flags.

${FOOTER}
`;
}

function optionRows(defs: readonly OptionDef[]): string {
  return defs.map((d) => `  ${flagName(d.name).padEnd(28)} ${d.doc}${d.default !== undefined && typeof d.default !== 'object' ? ` (default ${String(d.default)})` : ''}${d.aliases?.length ? ` (formerly ${d.aliases.map(flagName).join(', ')})` : ''}`).join('\n');
}

export function commandHelp(cmd: CommandHelp, defs: readonly OptionDef[]): string {
  const flags = cmd.flags.length ? `\nFlags:\n${cmd.flags.map(([f, d]) => `  ${f.padEnd(28)} ${d}`).join('\n')}\n` : '';
  const options = cmd.takesOptions ? `\nOptions (also in a config file, or as PASSENGER_<NAME>; plugins named in the app's config add more):\n${optionRows(defs)}\n` : '';
  return `Usage: passenger ${cmd.name} ${cmd.synopsis}

${cmd.summary.charAt(0).toUpperCase()}${cmd.summary.slice(1)}. ${cmd.details}
${flags}${options}`;
}
