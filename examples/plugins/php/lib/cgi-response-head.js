// @ts-check
// The head of a CGI response (RFC 3875 section 6), as PHP writes it to
// FastCGI STDOUT: header lines, a `Status: 404 Not Found` line instead of a
// status line, an empty line, then the body. Checked before the client sees
// anything: a head that is too large, a header name that is no token, or a
// value with a NUL fails the request instead of reaching the client.

/** A head larger than this is refused (nginx's default fastcgi_buffer_size is 4 KiB; PHP apps set long cookies). */
export const MAX_HEAD_BYTES = 64 * 1024;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// The connection to the client is the core's: these headers describe PHP's side only.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * @typedef {{ status: number, reason: string, headers: string[], contentLength: number | undefined }} CgiHead
 */

export class CgiHeadError extends Error {}

/**
 * Collects STDOUT until the head is complete. `feed` returns undefined while
 * the head is incomplete, then `{ head, rest }` once: `rest` is the body's first bytes.
 */
export class CgiHeadReader {
  /** @type {Buffer[]} */
  #parts = [];
  #size = 0;

  /** @param {Buffer} data @returns {{ head: CgiHead, rest: Buffer } | undefined} */
  feed(data) {
    this.#parts.push(Buffer.from(data));
    this.#size += data.length;
    const buf = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts);
    this.#parts = [buf];
    const end = headEnd(buf);
    if (!end) {
      if (this.#size > MAX_HEAD_BYTES) throw new CgiHeadError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
      return undefined;
    }
    if (end.at > MAX_HEAD_BYTES) throw new CgiHeadError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
    return { head: parseCgiHead(buf.toString('latin1', 0, end.at)), rest: buf.subarray(end.at + end.length) };
  }
}

/** Where the empty line is: CRLF CRLF as PHP writes it, or LF LF as a CGI script may. */
function headEnd(buf) {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return undefined;
  if (lf < 0 || (crlf >= 0 && crlf < lf)) return { at: crlf, length: 4 };
  return { at: lf, length: 2 };
}

/** @param {string} text @returns {CgiHead} */
export function parseCgiHead(text) {
  /** @type {string[]} */
  const headers = [];
  let status;
  let reason = '';
  let location = false;
  /** @type {number | undefined} */
  let contentLength;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CgiHeadError(`invalid header line "${line.slice(0, 80)}"`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) throw new CgiHeadError(`invalid header name "${name.slice(0, 80)}"`);
    if (/[\0\r]/.test(value)) throw new CgiHeadError(`header "${name}" has a CR or NUL in its value`);
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const m = /^(\d{3})(?:\s+(.*))?$/.exec(value);
      if (!m || Number(m[1]) < 200 || Number(m[1]) > 599) throw new CgiHeadError(`invalid Status header "${value.slice(0, 80)}"`);
      status = Number(m[1]);
      reason = m[2] ?? '';
      continue;
    }
    if (lower === 'content-length') {
      if (!/^\d+$/.test(value) || (contentLength !== undefined && contentLength !== Number(value))) throw new CgiHeadError(`invalid Content-Length "${value}"`);
      if (contentLength !== undefined) continue;
      contentLength = Number(value);
    }
    if (HOP_BY_HOP.has(lower)) continue;
    if (lower === 'location') location = true;
    headers.push(name, value);
  }
  // RFC 3875 6.2.3: a redirect without a Status is a 302.
  return { status: status ?? (location ? 302 : 200), reason, headers, contentLength };
}
