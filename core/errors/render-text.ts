import type { ErrorReport } from './report.ts';

/** The report as text, for the log and for terminals. */
export function renderReportText(r: ErrorReport): string {
  const lines = [
    `Error ${r.id}: ${r.summary}`,
    `  app: ${r.appRoot} (${r.appType})`,
  ];
  if (r.errorClass) lines.push(`  error class: ${r.errorClass}`);
  if (r.exit) lines.push(`  exit: ${r.exit.signal ? `signal ${r.exit.signal}` : `code ${r.exit.code}`}`);
  if (r.command.length) lines.push(`  command: ${r.command.join(' ')}`);
  lines.push(`  user: ${r.user.name} (uid ${r.user.uid}, gid ${r.user.gid}), cwd ${r.cwd}`);
  for (const h of r.hints) lines.push(`  hint: ${h.title}${h.command ? `: run \`${h.command}\`` : ''}`);
  if (r.detail) lines.push('  detail:', ...r.detail.split('\n').slice(0, 40).map((l) => `    ${l}`));
  if (r.output.length) lines.push('  output (last lines):', ...r.output.slice(-20).map((l) => `    ${l}`));
  return lines.join('\n');
}
