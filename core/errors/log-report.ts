// Writes a report to the log once per failed spawn. Every line carries the
// error ID, so `grep <id>` on the log finds the whole report that a
// production error page refers to.
import type { Logger } from '../log/logger.ts';
import type { ErrorReport } from './report.ts';
import { renderReportText } from './render-text.ts';

export function logErrorReport(log: Logger, report: ErrorReport): void {
  for (const line of renderReportText(report).split('\n')) log.error(`[${report.id}] ${line}`);
}
