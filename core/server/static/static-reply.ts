// A static file answered from memory, with what send would answer for
// it: its response headers, made once per version of the file, and the
// conditional GET (If-None-Match, If-Modified-Since) decided here, so that a
// browser revalidating its assets costs no open(2) either. Ranges and the
// other preconditions (If-Match, If-Unmodified-Since, If-Range) stay send's.
import type http from 'node:http';
import type { Stats } from 'node:fs';

/** A year of 365 days in seconds: the max-age of fingerprinted assets (send's longest maxAge). */
export const YEAR_S = 365 * 24 * 3600;

export interface StaticReply {
  status: number;
  reason: string;
  /** Names and values alternating; shared by every reply for this version of the file, never to be changed. */
  headers: string[];
  /** undefined for HEAD and 304. */
  body: Buffer | undefined;
}

/** The request headers a reply from memory depends on. */
export interface StaticRequestHeaders {
  acceptEncoding: string | undefined;
  ifNoneMatch: string | undefined;
  ifModifiedSince: string | undefined;
  cacheControl: string | undefined;
  /** A Range or a precondition other than the two above: send's to answer. */
  needsSend: boolean;
}

/** Request headers (lower case) that only send answers. */
const SEND_ONLY = new Set(['range', 'if-range', 'if-match', 'if-unmodified-since']);

function joined(a: string | undefined, b: string): string { return a === undefined ? b : `${a}, ${b}`; }

/** From the lean engine's raw headers, in one pass. As node does, list headers are joined and a repeated If-Modified-Since counts once. */
export function staticHeadersOfRaw(raw: readonly string[]): StaticRequestHeaders {
  const out: StaticRequestHeaders = { acceptEncoding: undefined, ifNoneMatch: undefined, ifModifiedSince: undefined, cacheControl: undefined, needsSend: false };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Every name of interest is 5 to 19 characters long: skip the others without lower-casing them.
    if (name.length < 5 || name.length > 19) continue;
    const lower = name.toLowerCase();
    const value = raw[i + 1]!;
    if (lower === 'accept-encoding') out.acceptEncoding = joined(out.acceptEncoding, value);
    else if (lower === 'if-none-match') out.ifNoneMatch = joined(out.ifNoneMatch, value);
    else if (lower === 'if-modified-since') out.ifModifiedSince ??= value;
    else if (lower === 'cache-control') out.cacheControl = joined(out.cacheControl, value);
    else if (SEND_ONLY.has(lower)) out.needsSend = true;
  }
  return out;
}

/** From node's parsed headers. */
export function staticHeadersOfNode(h: http.IncomingHttpHeaders): StaticRequestHeaders {
  return {
    acceptEncoding: h['accept-encoding'],
    ifNoneMatch: h['if-none-match'],
    ifModifiedSince: h['if-modified-since'],
    cacheControl: h['cache-control'],
    needsSend: h.range !== undefined || h['if-range'] !== undefined || h['if-match'] !== undefined || h['if-unmodified-since'] !== undefined,
  };
}

/** One version of one file, as served: its headers for 200 and for 304. */
export interface FileReplies {
  etag: string;
  /** Last-Modified in ms, whole seconds (what the header says). */
  lastModifiedMs: number;
  ok: string[];
  notModified: string[];
}

/**
 * The headers send gives a whole file (a spec compares them): Content-Type,
 * Content-Encoding and Vary when a compressed sibling exists, Accept-Ranges,
 * Cache-Control, Last-Modified, a weak ETag of size and mtime, Content-Length.
 * A 304 carries the same minus the Content-* ones, as send's does.
 */
export function fileReplies(st: Stats, contentType: string, coding: string | undefined, vary: boolean, fingerprinted: boolean): FileReplies {
  const etag = `W/"${st.size.toString(16)}-${st.mtime.getTime().toString(16)}"`;
  const lastModified = st.mtime.toUTCString();
  const common = [
    'Accept-Ranges', 'bytes',
    'Cache-Control', fingerprinted ? `public, max-age=${YEAR_S}, immutable` : 'public, max-age=0',
    'Last-Modified', lastModified,
    'ETag', etag,
  ];
  if (vary) common.push('Vary', 'Accept-Encoding');
  const ok = ['Content-Type', contentType, ...(coding ? ['Content-Encoding', coding] : []), ...common, 'Content-Length', String(st.size)];
  return { etag, lastModifiedMs: Date.parse(lastModified), ok, notModified: common };
}

const NO_CACHE = /(?:^|,)\s*no-cache\s*(?:,|$)/i;

/** The tags of an If-None-Match list, without their weakness (RFC 9110 13.1.2: weak comparison). */
function matchesAny(list: string, etag: string): boolean {
  if (list.trim() === '*') return true;
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag;
  for (const part of list.split(',')) {
    const tag = part.trim();
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}

/**
 * Whether the client's copy is current: 304. If-None-Match decides when
 * present (RFC 9110 13.1.3: If-Modified-Since is then ignored); a request
 * with Cache-Control: no-cache gets the file, as send gives it.
 */
export function isFresh(req: StaticRequestHeaders, file: FileReplies): boolean {
  if (req.ifNoneMatch === undefined && req.ifModifiedSince === undefined) return false;
  if (req.cacheControl !== undefined && NO_CACHE.test(req.cacheControl)) return false;
  if (req.ifNoneMatch !== undefined) return matchesAny(req.ifNoneMatch, file.etag);
  const since = Date.parse(req.ifModifiedSince!);
  return Number.isFinite(since) && file.lastModifiedMs <= since;
}
