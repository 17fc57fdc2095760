// The report as plain text, for the log and for terminals: the same parts as
// the page, in the same order, so an admin reading the log by error ID sees
// what a developer sees in the browser.
import type { ErrorReport } from '../errors/report.ts';
import {
  exitText, failedStep, formatDuration, shellJoin, shownDetail, shownOutput, shownProperties, sortedEntries, stepLabel, stepState, systemFacts,
} from './report-view.ts';

const INDENT = '    ';

function heading(title: string): string {
  return `-- ${title} --`;
}

function indented(lines: readonly string[]): string[] {
  return lines.map((l) => (l === '' ? '' : INDENT + l));
}

function table(rows: readonly [string, string][]): string[] {
  const width = Math.min(32, Math.max(0, ...rows.map(([k]) => k.length)));
  return indented(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`));
}

export function renderReportText(r: ErrorReport): string {
  const failed = failedStep(r);
  const out: string[] = [
    `Error ${r.id}: ${r.appName ?? r.appRoot} could not start: ${r.summary}`,
    heading('What happened'),
    ...table([
      ['error', r.errorClass ? `${r.errorClass}: ${r.summary}` : r.summary],
      ['code', `${r.code} (${r.category})`],
      ['app', `${r.appRoot} (${r.appTypeName ?? r.appType})`],
      ...(failed ? [['failed at', `${stepLabel(failed)} after ${formatDuration(failed.durationMs)}`] as [string, string]] : []),
      ...(exitText(r.exit) ? [['process', exitText(r.exit)!] as [string, string]] : []),
      ['ran as', `${r.user.name} (uid ${r.user.uid}, gid ${r.user.gid}) in ${r.cwd}`],
      ...shownProperties(r),
      ['time', r.createdAt],
    ]),
  ];
  if (r.journey.length) {
    out.push(INDENT + r.journey.map((s) => `${stepLabel(s)}: ${stepState(s)}${s.durationMs !== undefined ? ` (${formatDuration(s.durationMs)})` : ''}`).join(' -> '));
  }
  if (r.hints.length) {
    out.push(heading('How to fix it'));
    r.hints.forEach((h, i) => {
      out.push(`${INDENT}${i + 1}. ${h.title}${h.plugin ? ` [${h.plugin}]` : ''}`);
      out.push(...indented(indented(h.body.split('\n'))));
      if (h.command) out.push(...indented(indented(h.command.split('\n').map((l) => `$ ${l}`))));
    });
  }
  const detail = shownDetail(r);
  if (detail.lines.length) {
    out.push(heading('Error detail'), ...indented(detail.lines));
    if (detail.omitted) out.push(`${INDENT}(${detail.omitted} more lines)`);
  }
  const output = shownOutput(r);
  out.push(heading(`Application output${output.omitted ? ` (last ${output.lines.length} of ${r.output.length} lines)` : ''}`));
  out.push(...(output.lines.length ? indented(output.lines) : [`${INDENT}(the application printed nothing${r.detail ? ' besides the error detail' : ''})`]));
  for (const s of r.sections) {
    out.push(heading(`${s.title}${s.plugin ? ` [${s.plugin}]` : ''}`), ...indented(s.body.split('\n')));
  }
  if (r.command.length) out.push(heading('Command'), INDENT + shellJoin(r.command));
  out.push(heading('Environment (secrets masked)'), ...indented(sortedEntries(r.environment).map(([k, v]) => `${k}=${v}`)));
  if (Object.keys(r.ulimits).length) out.push(heading('Resource limits'), ...table(sortedEntries(r.ulimits)));
  out.push(heading('System'), ...table(systemFacts(r)));
  return out.join('\n');
}
