// Writes a report to the log once per failed spawn. Every line carries the
// error ID, so `grep <id>` on the log finds the whole report that a
// production error page refers to. The same error again (logged-errors.ts)
// gets one line with its own ID and the ID of the full report.
import type { Logger } from '../log/logger.ts';
import type { ErrorReport } from '../errors/report.ts';
import { renderReportText } from './render-text.ts';
import { previouslyLogged } from './logged-errors.ts';

export function logErrorReport(log: Logger, report: ErrorReport): void {
  const first = previouslyLogged(report, report.id);
  if (first !== undefined) {
    log.error(`[${report.id}] Error ${report.id}: ${report.appName} could not start, again: ${report.summary} (the same error as ${first}: \`grep ${first}\` finds its full report)`);
    return;
  }
  for (const line of renderReportText(report).split('\n')) log.error(`[${report.id}] ${line}`);
}
