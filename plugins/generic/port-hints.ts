// Error report hints for generic apps (app_start_command): a command that
// never opened $PORT (with the port it was given, what it printed, and any
// other port it seems to use instead), and what its exit code or signal says.
import { shellQuote, type ErrorContext, type ErrorReport, type ReportHint } from '../../core/index.ts';

const OUTPUT_QUOTED = 5;

/** A port the app says it listens on that is not the one it was given, with the line that says so. */
function otherPort(output: readonly string[], given: string): { port: string; line: string } | undefined {
  const re = /(?:port\s*[:=]?\s*|localhost:|127\.0\.0\.1:|0\.0\.0\.0:|\[::\]:|\]:)(\d{2,5})\b/gi;
  for (const line of output) {
    for (const m of line.matchAll(re)) if (m[1] !== given) return { port: m[1]!, line: line.trim() };
  }
  return undefined;
}

function lastOutput(output: readonly string[]): string {
  const lines = output.filter((l) => l.trim() !== '').slice(-OUTPUT_QUOTED);
  return lines.length ? `It printed, last:\n${lines.map((l) => `  ${l}`).join('\n')}` : 'It printed nothing.';
}

function reproduce(report: ErrorReport, command: string, port: string): string {
  return `cd ${shellQuote(report.appRoot)} && PORT=${port} /bin/sh -c ${shellQuote(command)}`;
}

function neverListened(report: ErrorReport, command: string, port: string, timeout: unknown): ReportHint {
  const other = otherPort(report.output, port);
  const body = [
    `passenger ran \`${command}\` with PORT=${port} and waited ${timeout} s (start_timeout) for 127.0.0.1:${port} to accept connections; nothing did.`,
    other
      ? `The app seems to listen on port ${other.port} instead: it printed "${other.line}". Make it listen on $PORT: pass it on the command line (for example \`--port $PORT\`) or read the PORT environment variable.`
      : 'Make the command listen on $PORT: pass it on the command line (for example `--port $PORT`) or read the PORT environment variable.',
    'If it does use $PORT, it may listen on another address only: bind to 127.0.0.1 (or 0.0.0.0). If it is just slow to start, raise start_timeout.',
    lastOutput(report.output),
    'To see it for yourself, run the command as passenger does (below), then try `curl http://127.0.0.1:' + port + '/` in another terminal.',
  ];
  return { title: other ? `The app listens on port ${other.port}, not on $PORT (${port})` : `The command never listened on $PORT (${port})`, body: body.join('\n\n'), command: reproduce(report, command, port) };
}

function exitedEarly(report: ErrorReport, command: string, port: string): ReportHint {
  const exit = report.exit!;
  const run = reproduce(report, command, port);
  const printed = lastOutput(report.output);
  if (exit.signal) {
    const why = exit.signal === 'SIGKILL'
      ? `Something killed it outright; often the kernel's out-of-memory killer (free memory now: ${report.system.freeMemoryMiB} MiB of ${report.system.totalMemoryMiB} MiB; see \`dmesg\`).`
      : exit.signal === 'SIGSEGV' || exit.signal === 'SIGBUS' || exit.signal === 'SIGABRT' || exit.signal === 'SIGILL'
        ? 'It crashed (a native crash or an abort).'
        : 'Something sent it that signal before it was ready.';
    return { title: `The command was killed by ${exit.signal} before listening on $PORT`, body: `${why}\n\n${printed}`, command: run };
  }
  const byCode: Record<number, [string, string]> = {
    0: ['The command finished before listening on $PORT',
      'It exited successfully, so it did not run a server in the foreground. app_start_command must start the server and keep running: no `&`, no daemon mode (for example no `-d` or `--daemon`).'],
    126: ['The command is not executable (exit code 126)',
      'The shell found the program but could not run it: make it executable (`chmod +x`) and check its #! line.'],
    127: ['The command was not found (exit code 127)',
      `The shell could not find the program. Check the spelling in app_start_command, use an absolute path, or check PATH (${report.environment.PATH ?? 'not set'}).`],
  };
  const [title, why] = byCode[exit.code ?? -1] ?? [`The command exited with code ${exit.code} before listening on $PORT`, 'Its output says why.'];
  return { title, body: `${why}\n\n${printed}`, command: run };
}

export function portHints(report: ErrorReport, ctx: ErrorContext, plugin: string): ErrorReport {
  const command = ctx.app.options.app_start_command;
  const port = report.properties.port ?? report.environment.PORT;
  if (typeof command !== 'string' || !port) return report;
  const hint = report.exit ? exitedEarly(report, command, port) : neverListened(report, command, port, ctx.app.options.start_timeout);
  report.hints.push({ ...hint, plugin });
  return report;
}
