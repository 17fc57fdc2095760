// The live status page on the metrics listener: one self-contained HTML
// page (no CDN, no build step) with every app, its processes, their state,
// sessions, requests, memory and CPU, the queue and the last error by id.
// It refreshes itself: a small inline script fetches the page's <main>
// again every two seconds (a meta refresh does it without scripts). It shows
// no paths, environment, options or report details: only what an operator
// needs at a glance, and error ids to look up in the log.
import { createHash } from 'node:crypto';
import { html, SafeHtml } from '../error-reports/html.ts';
import type { Pool } from '../pool/pool.ts';
import type { AppProcess } from '../pool/app-process.ts';
import type { MetricsCollector } from './collector.ts';
import { STATUS_CLASSES } from './app-metrics.ts';

export const REFRESH_MS = 2000;

const STYLE = `
:root{--ink:#1c1e21;--muted:#5f6368;--line:#e1e3e6;--paper:#fff;--bg:#f6f7f9;--ok:#1f7a3f;--warn:#a15c00;--fail:#c4262e}
@media (prefers-color-scheme:dark){:root{--ink:#e8eaed;--muted:#a0a4aa;--line:#3a3d42;--paper:#1f2125;--bg:#16181b;--ok:#5cc98a;--warn:#e0a050;--fail:#ff6b6b}}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:var(--bg)}
header{background:var(--paper);border-bottom:1px solid var(--line);padding:1rem 1.25rem}
h1{font-size:1.3rem;margin:0}
.meta{color:var(--muted);font-size:.85rem;margin:.2rem 0 0}
main{padding:.5rem 1.25rem 2rem;max-width:72rem}
section{background:var(--paper);border:1px solid var(--line);border-radius:10px;padding:.9rem 1.1rem;margin:1rem 0}
h2{font-size:1.1rem;margin:0 0 .4rem}
dl{display:flex;flex-wrap:wrap;gap:.3rem 1.5rem;margin:.3rem 0 .7rem}
dt{color:var(--muted);font-size:.8rem}
dd{margin:0;font-weight:600}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:.3rem .6rem;border-bottom:1px solid var(--line)}
th{font-size:.8rem;color:var(--muted);font-weight:600}
.enabled{color:var(--ok)}.disabling,.spawning,.stopping{color:var(--warn)}.disabled,.error{color:var(--fail)}
.handed{color:var(--muted)}
code{font-family:ui-monospace,Menlo,Consolas,monospace}
`;

// Reloads <main> from the page itself and says when; keeps the last view when a fetch fails.
const SCRIPT = `setInterval(function(){fetch(location.pathname+'?part=main',{cache:'no-store',credentials:'same-origin'}).then(function(r){return r.ok?r.text():null}).then(function(t){if(t===null)return;document.querySelector('main').innerHTML=t;var u=document.getElementById('updated');u.dataset.refreshes=String(Number(u.dataset.refreshes)+1);u.textContent='updated '+new Date().toLocaleTimeString()}).catch(function(){})},${REFRESH_MS});`;

const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;

/** Only our own inline style and script run; the page loads nothing. */
export const STATUS_CSP = `default-src 'none'; style-src ${hash(STYLE)}; script-src ${hash(SCRIPT)}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

function mib(bytes: number): string {
  return bytes > 0 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : '-';
}

function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function stateOf(p: AppProcess): string {
  return p.life === 'alive' ? p.enabled : 'stopping';
}

export interface StatusSource {
  pool: Pool;
  collector: MetricsCollector;
  instanceName: string;
  version: string;
}

/** The part the script reloads. */
export function renderMain(src: StatusSource, now = Date.now()): SafeHtml {
  const groups = src.pool.groups;
  if (groups.length === 0) return html`<p>No apps in the pool yet.</p>`;
  return html`${groups.map((g) => {
    const m = src.collector.app(g.appRoot, g.spec.name);
    const total = m.requests.reduce((a, b) => a + b, 0);
    const byClass = STATUS_CLASSES.map((c, i) => ({ c, n: m.requests[i]! })).filter((x) => x.n > 0).map((x) => `${x.c}: ${x.n}`).join(', ');
    const err = g.lastError;
    return html`<section class="app">
<h2>${g.spec.name} <small class="meta">${g.spec.appType}, ${g.spec.options.environment}</small></h2>
<dl>
<div><dt>Processes</dt><dd>${g.processes.length}${g.spawning ? html` <span class="spawning">(+${g.spawning} spawning)</span>` : ''}</dd></div>
<div><dt>Queue</dt><dd>${g.queueLength}</dd></div>
<div><dt>In flight</dt><dd>${m.inFlight}</dd></div>
<div><dt>Requests</dt><dd>${total}${byClass ? ` (${byClass})` : ''}</dd></div>
<div><dt>Last error</dt><dd>${err ? html`<span class="error">error <code>${err.id}</code> at ${err.createdAt}</span>` : 'none'}</dd></div>
</dl>
${g.processes.length === 0 ? html`<p>No processes.</p>` : html`<table>
<thead><tr><th>PID</th><th>State</th><th>Sessions</th><th>Processed</th><th>CPU</th><th>Memory</th><th>Uptime</th><th>Idle</th></tr></thead>
<tbody>${g.processes.map((p) => html`<tr class="process"><td>${p.pid}</td><td class="${stateOf(p)}">${stateOf(p)}</td><td>${p.sessions}/${p.concurrency || '∞'}${p.handedConnections > 0 ? html` <span class="handed" title="client connections handed to this process (connection_handoff)">+${p.handedConnections} conn</span>` : ''}</td><td>${p.processed}</td><td>${p.cpu}%</td><td>${mib(p.rssBytes)}</td><td>${age(now - p.spawnedAt)}</td><td>${age(now - p.lastUsed)}</td></tr>`)}</tbody>
</table>`}
</section>`;
  })}`;
}

export function renderStatusPage(src: StatusSource): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow">
<title>passenger status: ${src.instanceName}</title>
<style>${new SafeHtml(STYLE)}</style>
<noscript><meta http-equiv="refresh" content="${REFRESH_MS / 1000}"></noscript>
</head>
<body>
<header><h1>passenger ${src.version}</h1><p class="meta">instance ${src.instanceName}; refreshes every ${REFRESH_MS / 1000} s; <span id="updated" data-refreshes="0">not updated yet</span></p></header>
<main>${renderMain(src)}</main>
<script>${new SafeHtml(SCRIPT)}</script>
</body>
</html>
`.value;
}
