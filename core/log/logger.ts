// A small levelled logger with no dependency. Lines go to stderr as
// `[passenger] [app pid] message`, so a terminal shows who said what; with
// log_format json, to stdout as one JSON object per line (for Kubernetes and
// log collectors): {"time","level","source","message"}.
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';

const ranks: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** A logger whose lines carry an extra prefix, e.g. the app and pid. */
  child(prefix: string): Logger;
  readonly level: LogLevel;
}

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => { process.stderr.write(line + '\n'); };
const stdoutSink: LogSink = (line) => { process.stdout.write(line + '\n'); };

export function createLogger(level: LogLevel = 'info', sink?: LogSink, prefix = '[passenger]', format: LogFormat = 'text'): Logger {
  const rank = ranks[level];
  const out = sink ?? (format === 'json' ? stdoutSink : stderrSink);
  const emit = (lvl: LogLevel, msg: string) => {
    if (ranks[lvl] > rank) return;
    if (format === 'json') {
      out(JSON.stringify({ time: new Date().toISOString(), level: lvl, source: prefix.replace(/^\[passenger\] ?/, '').replace(/^\[|\]$/g, '') || 'passenger', message: msg }));
      return;
    }
    const tag = lvl === 'info' ? '' : ` ${lvl.toUpperCase()}:`;
    out(`${prefix}${tag} ${msg}`);
  };
  return {
    level,
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
    child: (p) => createLogger(level, out, `${prefix} ${p}`, format),
  };
}
