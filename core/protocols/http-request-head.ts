// What an `http_session` app receives as request headers: the client's, minus
// hop-by-hop ones, with X-Forwarded-* set by us (or kept, from a trusted
// proxy) and a Host it can rely on.
// Front ends only hand over validated header text (node's HTTP parser; the
// SCGI parser refuses CR and LF), so the values go on the wire as they are.
import type { FrontRequest } from '../server/front.ts';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);
/** The lengths of every name handled apart below (Host, X-Forwarded-*, Content-Length, hop-by-hop). */
const SPECIAL_LENGTHS = new Set([...HOP_BY_HOP, ...FORWARDED, 'host', 'content-length'].map((n) => n.length));
/** Methods whose requests mean nothing by a body; the others get `Content-Length: 0` when they have none. */
const BODYLESS = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

/** Headers named in Connection are hop-by-hop too. */
function connectionTokens(raw: string[]): Set<string> | undefined {
  let set: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) (set ??= new Set()).add(t.trim().toLowerCase());
    }
  }
  return set;
}

/**
 * The headers, names and values alternating. `keepUpgrade` keeps Upgrade and
 * Connection (a WebSocket handshake); `framing` false drops Content-Length,
 * for a caller that writes the body's framing itself.
 */
export function upstreamHeaders(req: FrontRequest, opts: { keepUpgrade: boolean; framing: boolean }): string[] {
  const raw = req.rawHeaders;
  const extra = connectionTokens(raw);
  const out: string[] = [];
  let host = '';
  // What a trusted proxy said about the client; ignored from any other peer.
  let priorFor = '';
  let priorProto = '';
  let priorHost = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Most names (User-Agent, Accept, Cookie...) are none of those handled here: passed on without a closer look.
    if (extra === undefined && !SPECIAL_LENGTHS.has(name.length)) { out.push(name, raw[i + 1]!); continue; }
    const lower = name.toLowerCase();
    if (lower === 'host') host = raw[i + 1]!;
    else if (FORWARDED.has(lower)) {
      if (!req.trustedProxy) continue;
      const value = raw[i + 1]!;
      if (lower === 'x-forwarded-for') priorFor = priorFor ? `${priorFor}, ${value}` : value;
      else if (lower === 'x-forwarded-proto') priorProto ||= value;
      else priorHost ||= value;
      continue;
    } else if (lower === 'content-length' && !opts.framing) continue;
    if ((HOP_BY_HOP.has(lower) || extra?.has(lower)) && !(opts.keepUpgrade && (lower === 'upgrade' || lower === 'connection'))) continue;
    out.push(name, raw[i + 1]!);
  }
  // HTTP/1.1 servers refuse a request without Host (an HTTP/1.0 client may not send one).
  if (!host) out.push('Host', `${req.serverName}:${req.serverPort}`);
  out.push('X-Forwarded-For', priorFor ? `${priorFor}, ${req.remoteAddress}` : req.remoteAddress);
  out.push('X-Forwarded-Proto', priorProto || (req.https ? 'https' : 'http'));
  // Derived from the one Host the front end let through, unless a trusted proxy named the host its client asked for.
  if (priorHost || host) out.push('X-Forwarded-Host', priorHost || host);
  return out;
}

/**
 * The HTTP/1.1 request head, its body framed by what the core knows: the
 * length when known, chunks when not. The connection stays open unless `close`.
 */
export function encodeHttpHead(req: FrontRequest, close: boolean): Buffer {
  const headers = upstreamHeaders(req, { keepUpgrade: false, framing: false });
  let s = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  if (req.body === null) { if (!BODYLESS.has(req.method)) s += 'Content-Length: 0\r\n'; }
  else if (req.contentLength !== undefined) s += `Content-Length: ${req.contentLength}\r\n`;
  else s += 'Transfer-Encoding: chunked\r\n';
  if (close) s += 'Connection: close\r\n';
  // Latin-1 keeps every byte as received (node's HTTP parser decodes headers as Latin-1).
  return Buffer.from(s + '\r\n', 'latin1');
}
