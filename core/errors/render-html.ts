// Self-contained error pages: no external resource, no script, everything
// that came from the app escaped.
import type { ErrorReport } from './report.ts';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#f5f5f7}
main{max-width:60rem;margin:2rem auto;padding:0 1rem}h1{font-size:1.5rem;margin:.2rem 0}
pre{background:#fff;border:1px solid #ddd;padding:.8rem;overflow:auto;font-size:13px;white-space:pre-wrap}
section{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

export function renderGenericHtml(status: number, message: string, errorId: string): string {
  return page(message, `<h1>${escapeHtml(message)}</h1><p>The server logged the details under error ID <code>${escapeHtml(errorId)}</code>. Status ${status}.</p>`);
}

export function renderReportHtml(r: ErrorReport): string {
  const hints = r.hints.map((h) => `<section><h2>${escapeHtml(h.title)}</h2><p>${escapeHtml(h.body)}</p>${h.command ? `<pre>${escapeHtml(h.command)}</pre>` : ''}</section>`).join('');
  const sections = r.sections.map((s) => `<section><h2>${escapeHtml(s.title)}</h2><pre>${escapeHtml(s.body)}</pre></section>`).join('');
  return page(`${r.summary} - app could not start`, `<p>Error ID ${escapeHtml(r.id)}</p><h1>${escapeHtml(r.summary)}</h1>`
    + `<p>${escapeHtml(r.appRoot)} (${escapeHtml(r.appType)})${r.errorClass ? ` raised ${escapeHtml(r.errorClass)}` : ''}</p>`
    + hints + (r.detail ? `<section><h2>Error</h2><pre>${escapeHtml(r.detail)}</pre></section>` : '')
    + (r.output.length ? `<section><h2>Output</h2><pre>${escapeHtml(r.output.join('\n'))}</pre></section>` : '')
    + sections);
}
