// Where an app's processes' output (stdout and stderr, line by line) goes:
// the server's log, or the app's own file (app_log_file, relative to the app
// directory, reopened with the others on SIGHUP). In its own file every line
// is kept, whatever log_level says about the server's lines.
import type { AppSpec } from '../config/app-spec.ts';
import { createLogger, type Logger } from './logger.ts';
import { openLogWriter } from './log-file.ts';

export function appOutputLog(app: AppSpec, serverLog: Logger): Logger {
  const file = app.options.app_log_file as string | undefined;
  if (file === undefined) return serverLog;
  const writer = openLogWriter(file, 'app_log_file', app.appRoot);
  return createLogger('debug', (line) => writer.write(line), '');
}
