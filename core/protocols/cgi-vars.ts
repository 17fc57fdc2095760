// The session protocol's request head: CGI variables as one buffer, built
// without intermediate objects (docs/protocols.md section 2).
import type { FrontRequest } from '../server/front.ts';

// Framing headers describe the connection to us, not the request the app sees.
// `Proxy` would become HTTP_PROXY, which HTTP libraries read as their proxy setting (httpoxy).
const SKIPPED = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'proxy']);

// What each raw header name becomes, computed once per distinct name: its CGI
// name, CONTENT_TYPE, or SKIP. Bounded, because clients choose the names.
const SKIP = '';
const CONTENT_TYPE = 'CONTENT_TYPE';
const HTTP_COOKIE = 'HTTP_COOKIE';
const HTTP_X_FORWARDED_FOR = 'HTTP_X_FORWARDED_FOR';
const HTTP_X_FORWARDED_PROTO = 'HTTP_X_FORWARDED_PROTO';
const HTTP_X_FORWARDED_HOST = 'HTTP_X_FORWARDED_HOST';
const MAX_CACHED_NAMES = 2048;
const cgiKeys = new Map<string, string>();
// Above this many headers, duplicates are found through a Map rather than a linear scan.
const LINEAR_SCAN_LIMIT = 32;

function cgiKey(header: string): string {
  let key = cgiKeys.get(header);
  if (key === undefined) {
    const lower = header.toLowerCase();
    // A name with `_` would merge with its dashed twin (X_User_Id and X-User-Id both make HTTP_X_USER_ID): dropped, as nginx does.
    key = lower === 'content-type' ? CONTENT_TYPE : SKIPPED.has(lower) || header.includes('_') ? SKIP : cgiName(header);
    if (cgiKeys.size < MAX_CACHED_NAMES) cgiKeys.set(header, key);
  }
  return key;
}

function cgiName(header: string): string {
  let out = 'HTTP_';
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    out += c === 45 ? '_' : c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : header[i];
  }
  return out;
}

/** SCRIPT_NAME and PATH_INFO of a request path below the app's base URI. */
function splitPath(path: string, baseUri: string): { scriptName: string; pathInfo: string } {
  const scriptName = baseUri === '/' ? '' : baseUri.replace(/\/$/, '');
  // Only whole segments match: /subway is not below /sub. A path outside the base URI is passed whole.
  const below = scriptName !== '' && path.startsWith(scriptName) && (path.length === scriptName.length || path.charCodeAt(scriptName.length) === 47);
  return below ? { scriptName, pathInfo: path.slice(scriptName.length) } : { scriptName: '', pathInfo: path };
}

/**
 * The request's headers as CGI variables (CONTENT_TYPE, HTTP_*), alternating
 * names and values: framing and httpoxy headers dropped, X-Forwarded-* only
 * from a trusted proxy, repeated headers joined.
 */
function headerVariables(req: FrontRequest): { names: string[]; values: string[] } {
  const raw = req.rawHeaders;
  const names: string[] = [];
  const values: string[] = [];
  const trusted = req.trustedProxy;
  const seen = raw.length > 2 * LINEAR_SCAN_LIMIT ? new Map<string, number>() : undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = cgiKey(raw[i]!);
    if (name === SKIP) continue;
    const value = raw[i + 1]!;
    // What the client claims about itself is believed only from a trusted proxy; REMOTE_ADDR, HTTPS and HTTP_HOST say the rest.
    if (!trusted && (name === HTTP_X_FORWARDED_FOR || name === HTTP_X_FORWARDED_PROTO || name === HTTP_X_FORWARDED_HOST)) continue;
    // Repeated headers are joined into one variable (cookies with "; ").
    const at = seen ? seen.get(name) ?? -1 : names.indexOf(name);
    if (at < 0) { seen?.set(name, names.length); names.push(name); values.push(value); }
    else values[at] += (name === HTTP_COOKIE ? '; ' : ', ') + value;
  }
  if (trusted) {
    // The proxy that reached us is the last hop, as an HTTP app would see it appended.
    const at = seen ? seen.get(HTTP_X_FORWARDED_FOR) ?? -1 : names.indexOf(HTTP_X_FORWARDED_FOR);
    if (at >= 0) values[at] += `, ${req.remoteAddress}`;
  }
  return { names, values };
}

/**
 * The CGI variables of a request (RFC 3875 and what servers add), alternating
 * names and values, for protocols other than `session` (FastCGI's PARAMS): the
 * same variables the session protocol sends, without its password.
 */
export function cgiVariables(req: FrontRequest, baseUri: string): string[] {
  const url = req.url;
  const q = url.indexOf('?');
  const { scriptName, pathInfo } = splitPath(q < 0 ? url : url.slice(0, q), baseUri);
  const out = [
    'REQUEST_METHOD', req.method, 'REQUEST_URI', url, 'SCRIPT_NAME', scriptName, 'PATH_INFO', pathInfo,
    'QUERY_STRING', q < 0 ? '' : url.slice(q + 1), 'SERVER_NAME', req.serverName, 'SERVER_PORT', String(req.serverPort),
    'SERVER_PROTOCOL', `HTTP/${req.httpVersion}`, 'REMOTE_ADDR', req.remoteAddress, 'REMOTE_PORT', String(req.remotePort),
  ];
  if (req.https) out.push('HTTPS', 'on');
  if (req.contentLength !== undefined && req.body !== null) out.push('CONTENT_LENGTH', String(req.contentLength));
  const { names, values } = headerVariables(req);
  for (let i = 0; i < names.length; i++) out.push(names[i]!, values[i]!);
  return out;
}

/**
 * Encodes the head: 4-byte big-endian length, then KEY\0VALUE\0 pairs, password first.
 * `keepAlive` adds PASSENGER_KEEP_ALIVE right after it (the caller guarantees a known body length).
 */
export function encodeSessionHead(req: FrontRequest, password: string, baseUri: string, keepAlive = false): Buffer {
  const url = req.url;
  const q = url.indexOf('?');
  const { scriptName, pathInfo } = splitPath(q < 0 ? url : url.slice(0, q), baseUri);
  let s = `PASSENGER_CONNECT_PASSWORD\0${password}\0${keepAlive ? 'PASSENGER_KEEP_ALIVE\u00001\u0000' : ''}REQUEST_METHOD\0${req.method}\0REQUEST_URI\0${url}\0`
    + `SCRIPT_NAME\0${scriptName}\0PATH_INFO\0${pathInfo}\0QUERY_STRING\0${q < 0 ? '' : url.slice(q + 1)}\0`
    + `SERVER_NAME\0${req.serverName}\0SERVER_PORT\0${req.serverPort}\0SERVER_PROTOCOL\0HTTP/${req.httpVersion}\0`
    + `REMOTE_ADDR\0${req.remoteAddress}\0REMOTE_PORT\0${req.remotePort}\0`;
  if (req.https) s += 'HTTPS\0on\0';
  if (req.contentLength !== undefined && req.body !== null) s += `CONTENT_LENGTH\0${req.contentLength}\0`;
  const { names, values } = headerVariables(req);
  for (let i = 0; i < names.length; i++) s += `${names[i]}\0${values[i]}\0`;
  // Latin-1 keeps every byte as received (node's HTTP parser decodes headers as Latin-1).
  const out = Buffer.allocUnsafe(4 + s.length);
  out.writeUInt32BE(s.length, 0);
  out.write(s, 4, 'latin1');
  return out;
}
