// A small levelled logger with no dependency. As text (the default), lines
// are `[passenger] [app pid] message`, so a terminal shows who said what; as
// JSON (log_format json), one object per line for log shippers:
// {"time","level","pid","context","msg"}, where context is what the text
// form puts in brackets after [passenger].
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'text' | 'json';

const ranks: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  /** A logger whose lines carry an extra prefix, e.g. the app and pid: `[app 123]`. */
  child(prefix: string): Logger;
  readonly level: LogLevel;
}

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => { process.stderr.write(line + '\n'); };

const TEXT_ROOT = '[passenger]';

/** `[passenger] [app 12]` → `app 12`, the JSON form's context. */
function contextOf(prefix: string): string {
  return prefix.startsWith(TEXT_ROOT) ? prefix.slice(TEXT_ROOT.length).trim().replace(/^\[|\]$/g, '').replace(/\] \[/g, ' ') : prefix;
}

export function createLogger(level: LogLevel = 'info', sink: LogSink = stderrSink, prefix = TEXT_ROOT, format: LogFormat = 'text'): Logger {
  const rank = ranks[level];
  let emit: (lvl: LogLevel, msg: string) => void;
  if (format === 'json') {
    const context = contextOf(prefix);
    // Built by hand around JSON.stringify of the message: the fixed fields need no escaping.
    const head = `","pid":${process.pid}${context ? `,"context":${JSON.stringify(context)}` : ''},"msg":`;
    emit = (lvl, msg) => {
      if (ranks[lvl] > rank) return;
      sink(`{"time":"${new Date().toISOString()}","level":"${lvl}${head}${JSON.stringify(msg)}}`);
    };
  } else {
    emit = (lvl, msg) => {
      if (ranks[lvl] > rank) return;
      const tag = lvl === 'info' ? '' : ` ${lvl.toUpperCase()}:`;
      sink(prefix === '' && tag === '' ? msg : `${prefix}${tag} ${msg}`);
    };
  }
  return {
    level,
    error: (m) => emit('error', m),
    warn: (m) => emit('warn', m),
    info: (m) => emit('info', m),
    debug: (m) => emit('debug', m),
    child: (p) => createLogger(level, sink, prefix === '' ? p : `${prefix} ${p}`, format),
  };
}
