// Self-contained error pages: inline CSS, no script, no external resource,
// and everything that came from the app escaped (the `html` template escapes
// by default). Order follows what a person needs first: what failed, how to
// fix it, the evidence, then the diagnostics folded away.
import { html, paragraphs, textWithCode, type SafeHtml } from './html.ts';
import { pageDocument } from './page-template.ts';
import type { ErrorReport, ReportHint, ReportSection } from '../errors/report.ts';
import {
  exitText, failedStep, formatDuration, shellJoin, shownDetail, shownOutput, shownProperties, sortedEntries, stepLabel, stepState, systemFacts,
  type ShownLines,
} from './report-view.ts';
import { isMasked } from './mask-secrets.ts';

export { escapeHtml } from './html.ts';

export function renderGenericHtml(status: number, message: string, errorId: string): string {
  return pageDocument(message, html`<main class="generic">
<h1>${message}</h1>
<p>Something went wrong on the server (status ${status}). Please try again later.</p>
<p>If you report this problem, mention error ID <code>${errorId}</code>: the server's log has the details under it.</p>
</main>`);
}

export function renderReportHtml(r: ErrorReport): string {
  const app = r.appName ?? r.appRoot;
  return pageDocument(`${app} could not start: ${r.summary}`, html`<header class="top"><div class="wrap">
<p class="kicker">The application ${app} could not start</p>
<h1>${r.summary}</h1>
<p class="meta">Error ID <code>${r.id}</code> · ${r.code} · ${r.createdAt}</p>
</div></header>
<main class="wrap">
${journey(r)}
${whatHappened(r)}
${howToFix(r.hints)}
${lines('Error detail', shownDetail(r), 'more lines: the JSON report and the log have them all')}
${lines('Application output', shownOutput(r), 'earlier lines: the JSON report has them all', r.detail ? 'The application printed nothing besides the error detail.' : 'The application printed nothing.')}
${r.sections.length ? html`<section><h2>From plugins</h2>${r.sections.map(pluginSection)}</section>` : ''}
${diagnostics(r)}
</main>
<footer class="wrap">This page is shown because friendly_error_pages is on for this application (the default in development).
With it off, visitors get a short page with the error ID only, and the full report goes to the log.</footer>`);
}

function journey(r: ErrorReport): SafeHtml {
  if (!r.journey.length) return html``;
  return html`<section aria-label="Where it failed"><h2>Where it failed</h2><ol class="journey">${r.journey.map((s) => html`
<li class="${stepState(s).replace(' ', '-')}"><span class="state">${s.state === 'done' ? '✓ ' : s.state === 'failed' ? '✗ ' : ''}${stepState(s)}</span>
${stepLabel(s)}${s.durationMs !== undefined ? html` <small>${formatDuration(s.durationMs)}</small>` : ''}</li>`)}</ol></section>`;
}

function whatHappened(r: ErrorReport): SafeHtml {
  const failed = failedStep(r);
  const exit = exitText(r.exit);
  const facts: [string, SafeHtml | string][] = [
    ['Error', r.errorClass ? html`<code>${r.errorClass}</code>: ${r.summary}` : r.summary],
    ['Application', html`<code>${r.appRoot}</code> (${r.appTypeName ?? r.appType})`],
  ];
  if (failed) facts.push(['Failed at', `${stepLabel(failed)}, after ${formatDuration(failed.durationMs)}`]);
  if (exit) facts.push(['Process', exit]);
  facts.push(['Ran as', html`<code>${r.user.name}</code> (uid ${r.user.uid}, gid ${r.user.gid}) in <code>${r.cwd}</code>`]);
  for (const [k, v] of shownProperties(r)) facts.push([k.replaceAll('_', ' '), html`<code>${v}</code>`]);
  facts.push(['Category', `${r.category} (${r.code})`]);
  return html`<section><h2>What happened</h2><dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></section>`;
}

function howToFix(hints: readonly ReportHint[]): SafeHtml {
  const body = hints.length
    ? hints.map((h) => html`<div class="hint"><h3>${textWithCode(h.title)}</h3>${paragraphs(h.body)}${h.command ? html`<pre class="cmd"><code>${h.command}</code></pre><p class="copy-note">One click selects the whole command.</p>` : ''}${h.plugin ? html`<p class="by">Suggested by ${h.plugin}</p>` : ''}</div>`)
    : html`<p class="none">No plugin recognised this failure. The error detail and the application's output below say what went wrong.</p>`;
  return html`<section class="fix"><h2>How to fix it</h2>${body}</section>`;
}

function lines(title: string, shown: ShownLines, omittedNote: string, emptyNote?: string): SafeHtml {
  if (!shown.lines.length) return emptyNote ? html`<section><h2>${title}</h2><p class="none">${emptyNote}</p></section>` : html``;
  const note = shown.omitted ? html`<p class="none">${shown.omitted} ${omittedNote}.</p>` : '';
  return html`<section><h2>${title}</h2>${note}<pre>${shown.lines.join('\n')}</pre></section>`;
}

function pluginSection(s: ReportSection): SafeHtml {
  return html`<details open><summary>${s.title}${s.plugin ? html` <small>from ${s.plugin}</small>` : ''}</summary><pre>${s.body}</pre></details>`;
}

function diagnostics(r: ErrorReport): SafeHtml {
  const env = sortedEntries(r.environment);
  return html`<section><h2>Diagnostics</h2>
<details><summary>Command</summary><pre>${r.command.length ? shellJoin(r.command) : '(no command was run)'}</pre></details>
<details><summary>Working directory, user and group</summary>${table([
  ['Working directory', r.cwd], ['User', `${r.user.name} (uid ${r.user.uid})`], ['Group', `gid ${r.user.gid}`],
])}</details>
<details><summary>Environment <small>${env.length} variables, secret values masked</small></summary>${table(env)}</details>
<details><summary>Resource limits <small>ulimit</small></summary>${table(sortedEntries(r.ulimits))}</details>
<details><summary>System</summary>${table(systemFacts(r))}</details>
</section>`;
}

function table(rows: readonly [string, string][]): SafeHtml {
  if (!rows.length) return html`<p class="none">Not available.</p>`;
  return html`<table>${rows.map(([k, v]) => html`<tr><td>${k}</td><td${isMasked(v) ? html` class="masked"` : ''}>${v}</td></tr>`)}</table>`;
}
