// X-Request-Id: one id per request that the app, the response and the access
// log share, so a line in the app's log can be found in the server's and a
// user's bug report ("request id …") leads to both.
//
// An incoming X-Request-Id is kept only from a trusted proxy (trusted_proxies:
// a load balancer that already numbered the request), and only when it looks
// like an id (letters, digits and - _ . : @ + / =, at most 200 characters).
// From any other client it is replaced: the id is a key for searching logs,
// and a client choosing it could make its requests pass for someone else's
// (or put text of its choosing into every log line about them).
import { randomUUID } from 'node:crypto';
import type { FrontRequest } from './front.ts';

const NAME = 'x-request-id';
const SHAPE = /^[\w\-.:@+/=]{1,200}$/;

/** Whether a value may be kept as a request id. */
export function isRequestId(value: string): boolean {
  return SHAPE.test(value);
}

/** Makes sure the request carries one X-Request-Id header the app can trust, and sets `req.requestId`. */
export function applyRequestId(req: FrontRequest): void {
  const raw = req.rawHeaders;
  let kept: string | undefined;
  // Every X-Request-Id header goes; the one kept (or a new one) is put back at the end.
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 12 || raw[i]!.toLowerCase() !== NAME) continue;
    const value = raw[i + 1]!.trim();
    if (kept === undefined && req.trustedProxy && isRequestId(value)) kept = value;
    raw.splice(i, 2);
    i -= 2;
  }
  const id = kept ?? randomUUID();
  raw.push('X-Request-Id', id);
  req.requestId = id;
}

/** Adds X-Request-Id to response headers (names and values alternating) unless the app set one. */
export function withRequestId(headers: string[], id: string): string[] {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.length === 12 && headers[i]!.toLowerCase() === NAME) return headers;
  }
  headers.push('X-Request-Id', id);
  return headers;
}
