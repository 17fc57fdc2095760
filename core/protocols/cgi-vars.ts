// The session protocol's request head: CGI variables as one buffer, built
// without intermediate objects (docs/protocols.md section 2).
import type { FrontRequest } from '../server/front.ts';

// Framing headers describe the connection to us, not the request the app sees.
// `Proxy` would become HTTP_PROXY, which HTTP libraries read as their proxy setting (httpoxy).
const SKIPPED = new Set(['content-length', 'transfer-encoding', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'proxy']);

function cgiName(header: string): string {
  let out = 'HTTP_';
  for (let i = 0; i < header.length; i++) {
    const c = header.charCodeAt(i);
    out += c === 45 ? '_' : c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : header[i];
  }
  return out;
}

/** Encodes the head: 4-byte big-endian length, then KEY\0VALUE\0 pairs, password first. */
export function encodeSessionHead(req: FrontRequest, password: string, baseUri: string): Buffer {
  const url = req.url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const scriptName = baseUri === '/' ? '' : baseUri.replace(/\/$/, '');
  // Only whole segments match: /subway is not below /sub. A path outside the base URI is passed whole.
  const below = scriptName !== '' && path.startsWith(scriptName) && (path.length === scriptName.length || path.charCodeAt(scriptName.length) === 47);
  const pathInfo = below ? path.slice(scriptName.length) : path;
  let s = `PASSENGER_CONNECT_PASSWORD\0${password}\0REQUEST_METHOD\0${req.method}\0REQUEST_URI\0${url}\0`
    + `SCRIPT_NAME\0${below ? scriptName : ''}\0PATH_INFO\0${pathInfo}\0QUERY_STRING\0${q < 0 ? '' : url.slice(q + 1)}\0`
    + `SERVER_NAME\0${req.serverName}\0SERVER_PORT\0${req.serverPort}\0SERVER_PROTOCOL\0HTTP/${req.httpVersion}\0`
    + `REMOTE_ADDR\0${req.remoteAddress}\0REMOTE_PORT\0${req.remotePort}\0`;
  if (req.https) s += 'HTTPS\0on\0';
  if (req.contentLength !== undefined && req.body !== null) s += `CONTENT_LENGTH\0${req.contentLength}\0`;
  const raw = req.rawHeaders;
  const seen = new Map<string, number>();
  const values: string[] = [];
  const names: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (lower === 'content-type') { s += `CONTENT_TYPE\0${raw[i + 1]}\0`; continue; }
    if (SKIPPED.has(lower)) continue;
    const name = cgiName(raw[i]!);
    const at = seen.get(name);
    if (at === undefined) { seen.set(name, values.length); names.push(name); values.push(raw[i + 1]!); }
    else values[at] += (lower === 'cookie' ? '; ' : ', ') + raw[i + 1]!;
  }
  for (let i = 0; i < names.length; i++) s += `${names[i]}\0${values[i]}\0`;
  // Latin-1 keeps every byte as received (node's HTTP parser decodes headers as Latin-1).
  const out = Buffer.allocUnsafe(4 + s.length);
  out.writeUInt32BE(s.length, 0);
  out.write(s, 4, 'latin1');
  return out;
}
