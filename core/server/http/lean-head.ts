// The request heads the lean engine (lean-connection.ts) serves itself: the
// common methods, in the plainest form HTTP/1.1 allows, with no body or one
// of a plain Content-Length (the connection reads a small one whole before
// the request goes on, and streams a larger one). Anything else (chunked
// bodies, an upgrade, Expect, obs-fold, a bare CR or LF, bytes outside
// printable ASCII, a long head) is declined, and node's parser takes the
// connection over with every byte still unread: it alone decides what is
// malformed, so refusals stay exactly as they were. Declining is always safe; accepting is only allowed
// where node's parser would read the same method, target, version, headers,
// keep-alive and body length (spec/fuzz checks that).
import { TOKEN_BYTES } from '../../util/http-token.ts';

/** The methods served here; others (WebDAV's, CONNECT, TRACE, custom ones) go to node. */
export type LeanMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** A head this parser accepted. */
export interface LeanHead {
  method: LeanMethod;
  /** The request target as received (origin form). */
  url: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  httpVersionMinor: 0 | 1;
  /** Names and values alternating, names as sent, values without surrounding spaces and tabs. */
  rawHeaders: string[];
  /** Whether the connection stays open after the response (HTTP/1.1 unless `close`; HTTP/1.0 with `keep-alive`). */
  keepAlive: boolean;
  /** Offset just past the head's blank line. */
  end: number;
  /** The body's length (Content-Length; 0 without one): it follows the head. */
  contentLength: number;
}

/** Not all of the head has arrived yet. */
export const INCOMPLETE = 0;
/** Not a head this parser serves: node's parser must read it. */
export const DECLINE = 1;

/** Heads longer than this go to node, whose limit (16 KiB) answers 431. */
export const MAX_LEAN_HEAD = 8 * 1024;
/** Bodies up to this size are read whole before the request goes on (a form, a JSON document); larger ones are streamed. */
export const MAX_LEAN_BODY = 64 * 1024;
/** Longer Content-Length values (over 15 digits, a petabyte) go to node, which decides what they mean. */
const MAX_LENGTH_DIGITS = 15;
const MAX_HEADERS = 100;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** Target bytes accepted: unreserved, sub-delims, `:@/?%`. Quotes, brackets, `#`, `\` and the like go to node. */
const TARGET = new Uint8Array(128);
for (const c of "-._~!$&'()*+,;=:@/?%") TARGET[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TARGET[c] = 1;
for (let c = 65; c <= 90; c++) { TARGET[c] = 1; TARGET[c + 32] = 1; }

/** Header names whose presence means a chunked body, an upgrade or an interim answer: node's to handle. */
const DECLINED_NAMES = new Set(['transfer-encoding', 'upgrade', 'expect', 'http2-settings']);
/** Tried in turn at the start of the request line. */
const METHODS: readonly LeanMethod[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The method at `p` followed by a space, or DECLINE, or INCOMPLETE when the bytes so far could still be one. */
function methodAt(buf: Buffer, p: number, limit: number): LeanMethod | typeof INCOMPLETE | typeof DECLINE {
  let incomplete = false;
  for (const m of METHODS) {
    let i = 0;
    while (i < m.length && p + i < limit && buf[p + i] === m.charCodeAt(i)) i++;
    if (i < m.length) { if (p + i >= limit) incomplete = true; continue; }
    if (p + i >= limit) { incomplete = true; continue; }
    if (buf[p + i] === SP) return m;
  }
  return incomplete ? INCOMPLETE : DECLINE;
}

/** A Content-Length value as node reads it when it is plain digits without a leading zero (else declined), of at most 15 digits. */
function bodyLength(value: string): number | undefined {
  if (value.length === 0 || value.length > MAX_LENGTH_DIGITS || (value.length > 1 && value.charCodeAt(0) === 48)) return undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(value);
}

function isValueByte(c: number): boolean {
  return c === HTAB || (c >= SP && c < 127);
}

/**
 * Parses the head starting at `start`; `buf` may hold more (a pipelined next
 * request). INCOMPLETE until the blank line arrived (unless the bytes so far
 * already decide DECLINE).
 */
export function parseLeanHead(buf: Buffer, start: number): LeanHead | typeof INCOMPLETE | typeof DECLINE {
  const limit = Math.min(buf.length, start + MAX_LEAN_HEAD);
  // Request line: METHOD SP target SP HTTP/1.x CRLF.
  let p = start;
  const method = methodAt(buf, p, limit);
  if (method === INCOMPLETE || method === DECLINE) return method;
  p += method.length + 1;
  const targetStart = p;
  if (p < limit && buf[p] !== 47 /* / */) return DECLINE;
  while (p < limit && buf[p] !== SP) {
    const c = buf[p]!;
    if (c >= 128 || TARGET[c] === 0) return DECLINE;
    p++;
  }
  if (p + 10 > limit) return limit - start >= MAX_LEAN_HEAD ? DECLINE : INCOMPLETE;
  const url = buf.toString('latin1', targetStart, p);
  // " HTTP/1.1\r\n" or " HTTP/1.0\r\n"
  if (buf[p + 1] !== 72 || buf[p + 2] !== 84 || buf[p + 3] !== 84 || buf[p + 4] !== 80 || buf[p + 5] !== 47
    || buf[p + 6] !== 49 || buf[p + 7] !== 46 || (buf[p + 8] !== 49 && buf[p + 8] !== 48) || buf[p + 9] !== CR) return DECLINE;
  if (p + 11 > limit) return limit - start >= MAX_LEAN_HEAD ? DECLINE : INCOMPLETE;
  if (buf[p + 10] !== LF) return DECLINE;
  const minor = buf[p + 8] === 49 ? 1 : 0;
  p += 11;
  const rawHeaders: string[] = [];
  let close = false;
  let keepAliveToken = false;
  let contentLength = -1;
  for (;;) {
    if (p + 2 > limit) return limit - start >= MAX_LEAN_HEAD ? DECLINE : INCOMPLETE;
    if (buf[p] === CR) {
      if (buf[p + 1] !== LF) return DECLINE;
      // Both at once contradict each other (node would keep an HTTP/1.0 connection open, an HTTP/1.1 one not): node decides.
      if (close && keepAliveToken) return DECLINE;
      return { method, url, httpVersionMinor: minor, rawHeaders, keepAlive: minor === 1 ? !close : keepAliveToken, end: p + 2, contentLength: Math.max(contentLength, 0) };
    }
    if (rawHeaders.length >= MAX_HEADERS * 2) return DECLINE;
    // name ":" OWS value OWS CRLF
    const nameStart = p;
    while (p < limit && buf[p] !== COLON) {
      const c = buf[p]!;
      if (c >= 128 || TOKEN_BYTES[c] === 0) return DECLINE;
      p++;
    }
    if (p >= limit) return limit - start >= MAX_LEAN_HEAD ? DECLINE : INCOMPLETE;
    if (p === nameStart) return DECLINE;
    const name = buf.toString('latin1', nameStart, p);
    p++;
    let valueStart = -1;
    let valueEnd = -1;
    while (p < limit && buf[p] !== CR) {
      const c = buf[p]!;
      if (!isValueByte(c)) return DECLINE;
      if (c !== SP && c !== HTAB) {
        if (valueStart < 0) valueStart = p;
        valueEnd = p + 1;
      }
      p++;
    }
    if (p + 2 > limit) return limit - start >= MAX_LEAN_HEAD ? DECLINE : INCOMPLETE;
    if (buf[p + 1] !== LF) return DECLINE;
    p += 2;
    const value = valueStart < 0 ? '' : buf.toString('latin1', valueStart, valueEnd);
    const lower = name.length <= 17 ? name.toLowerCase() : '';
    if (DECLINED_NAMES.has(lower)) return DECLINE;
    if (lower === 'content-length') {
      // One plain length; repeated ones and lists are node's.
      const n = contentLength < 0 ? bodyLength(value) : undefined;
      if (n === undefined) return DECLINE;
      contentLength = n;
    } else if (lower === 'connection') {
      // Only the two tokens whose meaning is plain; any other (upgrade, a hop-by-hop header name) goes to node.
      for (const token of value.toLowerCase().split(',')) {
        const t = token.trim();
        if (t === 'close') close = true;
        else if (t === 'keep-alive') keepAliveToken = true;
        else return DECLINE;
      }
    }
    rawHeaders.push(name, value);
  }
}
