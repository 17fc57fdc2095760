// The access log's lines, one per request (docs/logging.md): NCSA combined
// (what log analyzers read) with the server's fields appended as key=value,
// JSON (one object per line, every field named), and the short line a
// terminal shows in development. Pure functions of a finished RequestEvent.
// The values of query parameters whose names say secret (token, api_key,
// password…) are masked: access logs are kept long and read by many.
import type { RequestEvent } from '../hooks.ts';
import { maskQuery } from '../error-reports/mask-query.ts';

export { maskQuery };

export type AccessLogFormat = 'combined' | 'json' | 'dev';

/** Referer and User-Agent, in one pass over the headers. */
function refererAndAgent(raw: string[]): [string | undefined, string | undefined] {
  let referer: string | undefined;
  let agent: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === 7 && n.toLowerCase() === 'referer') referer = raw[i + 1];
    else if (n.length === 10 && n.toLowerCase() === 'user-agent') agent = raw[i + 1];
  }
  return [referer, agent];
}

// Quotes, backslashes and control characters escaped as nginx does (\x22), so a line stays one line with its fields intact.
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;
function quoted(value: string | undefined): string {
  if (value === undefined || value === '') return '"-"';
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  return `"${value.replace(/["\\\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => (n < 10 ? `0${n}` : String(n));
let clfSecond = -1;
let clfText = '';

/** `05/Dec/2026:12:38:10 +0000` (UTC), made once per second. */
function clfTime(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== clfSecond) {
    const d = new Date(second * 1000);
    clfText = `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
    clfSecond = second;
  }
  return clfText;
}

let isoSecond = -1;
let isoPrefix = '';

/** `2026-12-05T12:38:10.123Z`, as toISOString gives it; the part up to the second made once per second. */
function isoTime(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== isoSecond) {
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    isoSecond = second;
  }
  const milli = Math.floor(nowMs) - second * 1000;
  return `${isoPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

const ms = (v: number) => (v < 0 ? '-' : v.toFixed(3));
const status = (e: RequestEvent) => (e.status === 0 ? '-' : String(e.status));

/** `"GET /x HTTP/1.1" 200 5 "ref" "agent" request_id=… app="…" pid=… duration_ms=… queue_ms=…[ trace_id=…]` after the client address. */
export function formatCombined(e: RequestEvent, nowMs: number): string {
  const r = e.request;
  const [referer, agent] = refererAndAgent(r.rawHeaders);
  return `${r.remoteAddress || '-'} - - [${clfTime(nowMs)}] ${quoted(`${r.method} ${maskQuery(r.url)} HTTP/${r.httpVersion}`)} ${status(e)} ${e.bytes} ${quoted(referer)} ${quoted(agent)}`
    + ` request_id=${r.requestId ?? '-'} app=${quoted(e.app.name)} pid=${e.pid || '-'} duration_ms=${ms(e.durationMs)} queue_ms=${ms(e.queueMs)}`
    + (r.traceId !== undefined ? ` trace_id=${r.traceId}` : '')
    + (e.rejection !== undefined ? ` rejected=${e.rejection}` : '')
    + (e.aborted ? ' aborted=1' : '');
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

const str = (v: string | undefined) => (v === undefined ? 'null' : JSON.stringify(v));

/**
 * One JSON object; absent values are null (request_id, pid, queue_ms), optional
 * ones left out (trace_id, rejection, aborted). Built as text: an object
 * literal with spreads through JSON.stringify took six times as long.
 */
export function formatJson(e: RequestEvent, nowMs: number): string {
  const r = e.request;
  const [referer, agent] = refererAndAgent(r.rawHeaders);
  return `{"time":"${isoTime(nowMs)}","remote_addr":${str(r.remoteAddress)},"method":${str(r.method)},"url":${str(maskQuery(r.url))}`
    + `,"protocol":"HTTP/${r.httpVersion}","status":${e.status},"bytes":${e.bytes},"referer":${str(referer)},"user_agent":${str(agent)}`
    + `,"request_id":${str(r.requestId)},"app":${str(e.app.name)},"pid":${e.pid || 'null'},"duration_ms":${round3(e.durationMs)}`
    + `,"queue_ms":${e.queueMs < 0 ? 'null' : round3(e.queueMs)}`
    + (r.traceId !== undefined ? `,"trace_id":${str(r.traceId)}` : '')
    + (e.rejection !== undefined ? `,"rejection":"${e.rejection}"` : '')
    + (e.aborted ? ',"aborted":true}' : '}');
}

/** `[passenger] [app pid] GET /x 200 5 B 3.2 ms`: what a terminal shows per request in development. */
export function formatDev(e: RequestEvent): string {
  const r = e.request;
  const who = e.pid ? `[${e.app.name} ${e.pid}]` : `[${e.app.name}]`;
  const extra = e.rejection !== undefined ? ` (${e.rejection})` : e.aborted ? ' (aborted)' : '';
  return `[passenger] ${who} ${r.method} ${maskQuery(r.url)} ${status(e)} ${e.bytes} B ${e.durationMs.toFixed(1)} ms${extra}`;
}
