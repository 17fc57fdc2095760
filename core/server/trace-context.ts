// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent`
// header reaches the app unchanged, so the app's tracing SDK joins the
// caller's trace. With trace_context on, a request without one (or with one
// that does not parse) gets a fresh traceparent, and the request remembers
// its trace id for the access log. No tracing backend: plumbing only.
import { randomFillSync } from 'node:crypto';
import type { FrontRequest } from './front.ts';

// version-traceid-parentid-flags; later versions may append fields after the flags.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_PARENT = '0'.repeat(16);

/** The trace id of a valid traceparent value, else undefined. */
export function traceIdOf(value: string): string | undefined {
  const m = TRACEPARENT.exec(value);
  if (!m) return undefined;
  const [, version, traceId, parentId, , rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_PARENT) return undefined;
  return traceId;
}

const random = Buffer.alloc(24);

/**
 * A new traceparent: random trace and parent ids, flagged sampled, so that an
 * app's SDK with the usual parent-based sampler records the trace it joins.
 */
export function newTraceparent(): string {
  randomFillSync(random);
  const hex = random.toString('hex');
  return `00-${hex.slice(0, 32)}-${hex.slice(32)}-01`;
}

/** Makes sure the request carries a valid traceparent and sets `req.traceId`. */
export function applyTraceContext(req: FrontRequest): void {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 11 || raw[i]!.toLowerCase() !== 'traceparent') continue;
    const id = traceIdOf(raw[i + 1]!.trim());
    if (id) { req.traceId = id; return; }
    // An unparsable one restarts the trace (the W3C rule for a participant that cannot parse it).
    const fresh = newTraceparent();
    raw[i + 1] = fresh;
    req.traceId = fresh.slice(3, 35);
    return;
  }
  const fresh = newTraceparent();
  raw.push('traceparent', fresh);
  req.traceId = fresh.slice(3, 35);
}
