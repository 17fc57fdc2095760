// An incremental, strict parser for the HTTP/1.1 responses that session-protocol
// loaders send (docs/protocols.md section 2). Pure: it is fed bytes and calls
// back with the head and with decoded body pieces; every violation is an error
// that says what was wrong. It keeps no reference to the bytes it is fed
// (callers reuse their read buffers): a partial line is copied.
import { HTTP_TOKEN } from '../util/http-token.ts';

const MAX_HEAD_BYTES = 64 * 1024;
/** A Buffer needle: Buffer#indexOf takes it without converting a string first (half the time per response). */
const HEAD_END = Buffer.from('\r\n\r\n');

export interface ResponseHead {
  status: number;
  reason: string;
  /** Names and values alternating, hop-by-hop headers removed. */
  headers: string[];
  contentLength: number | undefined;
  chunked: boolean;
  /** The connection cannot carry another request: `Connection: close`, or HTTP/1.0 without keep-alive. */
  close: boolean;
  /** `Keep-Alive: timeout=N`: how long the app keeps an idle connection open. */
  keepAliveTimeoutSec: number | undefined;
}

export interface ResponseSink {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
}

type State = 'head' | 'fixed' | 'chunkSize' | 'chunkData' | 'chunkDataEnd' | 'trailers' | 'untilClose' | 'done';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;
/** The lengths of the names handled apart (framing and hop-by-hop): any other name is passed on as it is. */
const SPECIAL_LENGTHS = new Set([...HOP_BY_HOP, 'content-length'].map((n) => n.length));

/** Optional whitespace around a field value: space or tab. */
function isOws(c: number): boolean {
  return c === 32 || c === 9;
}

export class ResponseParseError extends Error {}

export class ResponseParser {
  #state: State = 'head';
  #buf: Buffer | undefined;
  #remaining = 0;
  #interim = false;
  readonly #sink: ResponseSink;
  readonly #noBody: boolean;

  /** `noBody`: the request was HEAD, so the response has no body whatever its headers say. */
  constructor(sink: ResponseSink, noBody: boolean) {
    this.#sink = sink;
    this.#noBody = noBody;
  }

  get done(): boolean { return this.#state === 'done'; }
  get headReceived(): boolean { return this.#state !== 'head'; }

  feed(data: Buffer): void {
    let chunk: Buffer = this.#buf ? Buffer.concat([this.#buf, data]) : data;
    this.#buf = undefined;
    let pos = 0;
    while (pos < chunk.length && this.#state !== 'done') {
      switch (this.#state) {
        case 'head': {
          const end = chunk.indexOf(HEAD_END, pos);
          // The limit holds however the head was split into reads.
          if ((end < 0 ? chunk.length : end) - pos > MAX_HEAD_BYTES) throw new ResponseParseError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
          if (end < 0) {
            this.#buf = Buffer.from(chunk.subarray(pos));
            return;
          }
          this.#parseHead(chunk.toString('latin1', pos, end));
          pos = end + 4;
          break;
        }
        case 'fixed': {
          const n = Math.min(this.#remaining, chunk.length - pos);
          this.#sink.body(chunk.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = 'done';
          break;
        }
        case 'untilClose':
          this.#sink.body(pos === 0 ? chunk : chunk.subarray(pos));
          return;
        case 'chunkSize':
        case 'trailers':
        case 'chunkDataEnd': {
          const eol = chunk.indexOf('\r\n', pos);
          if (eol < 0) {
            if (chunk.length - pos > 4096) throw new ResponseParseError('chunk framing line too long');
            this.#buf = Buffer.from(chunk.subarray(pos));
            return;
          }
          const line = chunk.toString('latin1', pos, eol);
          pos = eol + 2;
          this.#framingLine(line);
          break;
        }
        case 'chunkData': {
          const n = Math.min(this.#remaining, chunk.length - pos);
          this.#sink.body(chunk.subarray(pos, pos + n));
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = 'chunkDataEnd';
          break;
        }
      }
    }
    if (this.#state === 'done' && pos < chunk.length) {
      throw new ResponseParseError(`${chunk.length - pos} unexpected bytes after the end of the response`);
    }
  }

  /** The app closed the connection; throws if that cut the response short. */
  end(): void {
    if (this.#state === 'untilClose') { this.#state = 'done'; return; }
    if (this.#state === 'done') return;
    if (this.#state === 'head') {
      throw new ResponseParseError(this.#buf ? 'connection closed in the middle of the response head'
        : this.#interim ? 'connection closed after an interim (1xx) response, before the final one' : 'connection closed without a response');
    }
    if (this.#state === 'fixed') throw new ResponseParseError(`response truncated: ${this.#remaining} of the announced Content-Length bytes missing`);
    throw new ResponseParseError('response truncated: the chunked body ended without its final chunk');
  }

  #framingLine(line: string): void {
    if (this.#state === 'chunkDataEnd') {
      if (line !== '') throw new ResponseParseError('chunk data not followed by CRLF');
      this.#state = 'chunkSize';
    } else if (this.#state === 'chunkSize') {
      const hex = line.split(';')[0]!.trim();
      if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new ResponseParseError(`invalid chunk size line "${line.slice(0, 40)}"`);
      this.#remaining = parseInt(hex, 16);
      this.#state = this.#remaining === 0 ? 'trailers' : 'chunkData';
    } else if (line === '') {
      this.#state = 'done';
    }
  }

  #parseHead(text: string): void {
    const firstEnd = text.indexOf('\r\n');
    const statusLine = firstEnd < 0 ? text : text.slice(0, firstEnd);
    const parsed = parseStatusLine(statusLine);
    if (parsed === undefined) throw new ResponseParseError(`invalid status line "${statusLine.slice(0, 80)}"`);
    const { http10, status, reason } = parsed;
    if (status < 100 || status > 599) throw new ResponseParseError(`invalid status code ${status}`);
    // CR and LF already made the line invalid.
    if (reason.includes('\0')) throw new ResponseParseError('invalid characters in the status line');
    const headers: string[] = [];
    let contentLength: number | undefined;
    let chunked = false;
    /** Lower-cased tokens of Connection headers. */
    let connection: string[] | undefined;
    let keepAliveTimeoutSec: number | undefined;
    // Line by line without split(), trimming by hand: this runs for every response.
    let lineStart = firstEnd < 0 ? -1 : firstEnd + 2;
    while (lineStart >= 0) {
      const next = text.indexOf('\r\n', lineStart);
      const lineEnd = next < 0 ? text.length : next;
      const colon = text.indexOf(':', lineStart);
      if (colon <= lineStart || colon >= lineEnd) throw new ResponseParseError(`invalid header line "${text.slice(lineStart, Math.min(lineEnd, lineStart + 80))}"`);
      const name = text.slice(lineStart, colon);
      if (!HTTP_TOKEN.test(name)) throw new ResponseParseError(`invalid header name "${name.slice(0, 80)}"`);
      // Checked before trimming: a trim would hide a CR or LF at either end.
      let from = colon + 1;
      let to = lineEnd;
      for (let i = from; i < to; i++) {
        const c = text.charCodeAt(i);
        if (c === 13 || c === 10 || c === 0) throw new ResponseParseError(`header "${name}" has a CR, LF or NUL in its value`);
      }
      while (from < to && isOws(text.charCodeAt(from))) from++;
      while (to > from && isOws(text.charCodeAt(to - 1))) to--;
      const value = text.slice(from, to);
      lineStart = next < 0 ? -1 : next + 2;
      // Only names as long as one of the special ones need a closer look.
      if (!SPECIAL_LENGTHS.has(name.length)) { headers.push(name, value); continue; }
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        const length = decimal(value);
        if (length < 0 || (contentLength !== undefined && contentLength !== length)) throw new ResponseParseError(`invalid Content-Length "${value}"`);
        // A repeated identical Content-Length is passed on once: HTTP clients reject duplicates.
        if (contentLength !== undefined) continue;
        contentLength = length;
      } else if (lower === 'transfer-encoding') {
        if (value.toLowerCase() !== 'chunked') throw new ResponseParseError(`unsupported Transfer-Encoding "${value}"`);
        chunked = true;
        continue;
      }
      if (HOP_BY_HOP.has(lower)) {
        if (lower === 'connection') connection = connectionTokens(value, connection);
        else if (lower === 'keep-alive') keepAliveTimeoutSec = keepAliveTimeout(value) ?? keepAliveTimeoutSec;
        continue;
      }
      headers.push(name, value);
    }
    // Headers the Connection header names are hop-by-hop too.
    if (connection) removeNamed(headers, connection);
    if (chunked && contentLength !== undefined) throw new ResponseParseError('both Content-Length and Transfer-Encoding: chunked');
    if (status < 200) {
      // Interim responses (100, 102, 103) are not the answer: skip them and parse the final one. Nothing upgrades here.
      if (status === 101) throw new ResponseParseError('101 Switching Protocols, but the session protocol has no upgrades');
      this.#interim = true;
      return;
    }
    const close = connection?.includes('close') === true || (http10 && connection?.includes('keep-alive') !== true);
    this.#sink.head({ status, reason, headers, contentLength, chunked, close, keepAliveTimeoutSec });
    const bodiless = this.#noBody || status === 204 || status === 304;
    if (bodiless) this.#state = 'done';
    else if (chunked) this.#state = 'chunkSize';
    else if (contentLength !== undefined) this.#state = contentLength === 0 ? 'done' : 'fixed';
    else this.#state = 'untilClose';
    this.#remaining = contentLength ?? 0;
  }
}

/** "HTTP/1.x NNN[ reason]", as the pattern /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/ reads it, without a match array per response. */
function parseStatusLine(line: string): { http10: boolean; status: number; reason: string } | undefined {
  if (line.length < 12 || !line.startsWith('HTTP/1.') || line.charCodeAt(8) !== 32) return undefined;
  const minor = line.charCodeAt(7);
  if (minor !== 48 && minor !== 49) return undefined;
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    status = status * 10 + d;
  }
  if (line.length === 12) return { http10: minor === 48, status, reason: '' };
  if (line.charCodeAt(12) !== 32) return undefined;
  const reason = line.slice(13);
  // The pattern's `.` matches no line terminator.
  if (LINE_TERMINATOR.test(reason)) return undefined;
  return { http10: minor === 48, status, reason };
}

const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/** A Content-Length value: one or more digits; -1 when it is not that. */
function decimal(value: string): number {
  if (value.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The lower-cased tokens of a Connection header, added to those before; the usual single token without split(). */
function connectionTokens(value: string, before: string[] | undefined): string[] {
  const tokens = before ?? [];
  if (value.indexOf(',') < 0) tokens.push(value.trim().toLowerCase());
  else for (const t of value.split(',')) tokens.push(t.trim().toLowerCase());
  return tokens;
}

/** Apps send the same Keep-Alive value with every response: it is read once. */
let lastKeepAlive = '';
let lastKeepAliveTimeout: number | undefined;
function keepAliveTimeout(value: string): number | undefined {
  if (value !== lastKeepAlive) {
    const t = KEEP_ALIVE_TIMEOUT.exec(value);
    lastKeepAlive = value;
    lastKeepAliveTimeout = t ? Number(t[1]) : undefined;
  }
  return lastKeepAliveTimeout;
}

function removeNamed(headers: string[], names: string[]): void {
  const drop = names.filter((n) => n !== 'close' && n !== 'keep-alive' && n !== '');
  if (drop.length === 0) return;
  let out = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if (drop.includes(headers[i]!.toLowerCase())) continue;
    headers[out++] = headers[i]!;
    headers[out++] = headers[i + 1]!;
  }
  headers.length = out;
}
