#!/usr/bin/env node
// The `passenger` command: parse, dispatch, print errors in one format.
// Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
import { parseArgs, takeSwitches } from './args.ts';
import { builtinPlugins } from '../../plugins/index.ts';
import { Kernel } from '../kernel.ts';
import { createLogger } from '../log/logger.ts';
import { isPassengerError } from '../errors/passenger-error.ts';
import { version } from '../paths.ts';
import { COMMANDS, commandHelp, globalHelp } from './usage.ts';

async function main(argv: string[]): Promise<number> {
  // A kernel with the built-in plugins knows every built-in option, for --help and boolean flags.
  const kernel = new Kernel(createLogger('error'));
  const builtins = builtinPlugins();
  for (const p of builtins) kernel.use(p);
  kernel.boot();
  const booleans = new Set(['help', 'json', 'debug', 'version', 'watch', 'check', ...kernel.options.list().filter((d) => d.type === 'boolean').flatMap((d) => [d.name, ...(d.aliases ?? [])])]);
  const args = parseArgs(argv, booleans);
  const sw = takeSwitches(args.flags, ['help', 'json', 'debug', 'version', 'watch']);
  if (sw.version) { process.stdout.write(`passenger ${version}\n`); return 0; }
  const command = COMMANDS.find((c) => c.name === args.command);
  if (args.command !== undefined && !command) {
    process.stderr.write(`passenger: unknown command "${args.command}"\n\n${globalHelp()}`);
    return 2;
  }
  if (sw.help || !command) {
    process.stdout.write(command ? commandHelp(command, kernel.options.list()) : globalHelp());
    return command || sw.help ? 0 : 2;
  }
  const dir = args.positionals[0] ?? '.';
  // `run` reads configuration and loads plugins before the watchdog's handlers exist: a stop signal meanwhile is caught, not fatal.
  const early = args.command === 'run' ? (await import('../watchdog/early-signals.ts')).catchEarlyStopSignals() : undefined;
  try {
    // Each command loads only its own modules: `run` goes on as the watchdog, for the instance's lifetime.
    switch (args.command) {
      case 'run': return await (await import('./commands/run.ts')).runCommand(builtinPlugins(), dir, args.flags, early);
      case 'detect': return await (await import('./commands/detect.ts')).detectCommand(builtinPlugins(), dir, args.flags, sw.json === true);
      case 'status': return await (await import('./commands/status.ts')).statusCommand(args.positionals[0], args.flags, sw.json === true, sw.watch === true);
      case 'stop': return await (await import('./commands/stop.ts')).stopCommand(args.positionals[0], args.flags);
      case 'reload': return await (await import('./commands/reload.ts')).reloadCommand(args.positionals[0], args.flags);
      case 'restart-app': return await (await import('./commands/restart-app.ts')).restartAppCommand(args.positionals[0], args.flags);
      case 'systemd-unit': return await (await import('./commands/systemd-unit.ts')).systemdUnitCommand(builtinPlugins(), dir, args.flags);
      case 'plugin': return (await import('./commands/plugin-new.ts')).pluginCommand(args.positionals, args.flags);
      case 'nginx-config': return await (await import('./commands/nginx-config.ts')).nginxConfigCommand(args.positionals, args.flags);
      default: throw new Error(`command ${args.command} is in the help table but not dispatched`);
    }
  } catch (e) {
    const code = isPassengerError(e) ? e.code : undefined;
    process.stderr.write(`passenger ${args.command}: ${code ? `${code}: ` : ''}${e instanceof Error ? e.message : String(e)}\n`);
    if (sw.debug && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return code?.startsWith('PSG_ERR_CONFIG') || code === 'PSG_ERR_USAGE' || code === 'PSG_ERR_INSTANCE_AMBIGUOUS' || code?.startsWith('PSG_ERR_DETECT') || code?.startsWith('PSG_ERR_PLUGIN') ? 2 : 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`passenger: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = isPassengerError(e) && e.code === 'PSG_ERR_USAGE' ? 2 : 1;
});
