// The server's own log as the options say: log_level, log_format (text or
// json) and log_file (a path relative to the app directory, or `-` for
// stdout; stderr when unset). The watchdog and the core both append to the
// same log_file, and both reopen it on SIGHUP.
import { createLogger, type LogFormat, type Logger, type LogLevel } from './logger.ts';
import { openLogWriter } from './log-file.ts';

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
  file: string | undefined;
  appRoot: string;
}

export function configuredLogger(s: LogSettings): Logger {
  if (s.file === undefined) return createLogger(s.level, undefined, undefined, s.format);
  const writer = openLogWriter(s.file, 'log_file', s.appRoot);
  return createLogger(s.level, (line) => writer.write(line), undefined, s.format);
}
