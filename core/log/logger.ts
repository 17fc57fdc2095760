// A small levelled logger with no dependency. Lines go to stderr as
// `[passenger] [app pid] message`, so a terminal shows who said what.
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

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

export function createLogger(level: LogLevel = 'info', sink: LogSink = stderrSink, prefix = '[passenger]'): Logger {
  const rank = ranks[level];
  const emit = (lvl: LogLevel, msg: string) => {
    if (ranks[lvl] > rank) return;
    const tag = lvl === 'info' ? '' : ` ${lvl.toUpperCase()}:`;
    sink(`${prefix}${tag} ${msg}`);
  };
  return {
    level,
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
    child: (p) => createLogger(level, sink, `${prefix} ${p}`),
  };
}
