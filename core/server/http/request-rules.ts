// The header rules node's HTTP parser leaves to the server (RFC 9112, and
// what nginx does), checked before a request goes anywhere. A pure function
// of the parsed head: it either refuses the request with a status and a
// message naming the header or the part at fault, or hands back the headers
// the app may see (underscored names dropped, Host taken from an
// absolute-form target).

export interface ParsedHead {
  method?: string;
  /** The request target as received. */
  url?: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  /** Names and values alternating, as received. */
  rawHeaders: string[];
}

export type HeadVerdict =
  | {
    ok: true;
    /** The target in origin form (`/path?query`), or `*`. */
    url: string;
    /** The one Host (from an absolute-form target if there was one); '' when the client sent none. */
    host: string;
    rawHeaders: string[];
    /** Header names dropped because they contain `_`. */
    dropped: string[];
  }
  | {
    ok: false;
    status: 400 | 501 | 505;
    /** The header at fault, when one is. */
    header?: string;
    message: string;
  };

/**
 * A Host value: an IP literal or a registered name (RFC 3986), and a port.
 * Stricter than the RFC in one place: no comma, which would turn the value
 * into a list once copied to X-Forwarded-Host.
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+;=]*)(?::[0-9]{0,5})?$/;
const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/i;

/** Quoted and cut short, so a hostile value cannot flood or forge a log line. */
function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
}

function refuse(status: 400 | 501 | 505, message: string, header?: string): HeadVerdict {
  return header === undefined ? { ok: false, status, message } : { ok: false, status, header, message };
}

export function checkRequestHead(head: ParsedHead): HeadVerdict {
  if (head.httpVersionMajor === 0) return refuse(400, 'an HTTP/0.9 request line (no HTTP version) is not accepted');
  if (head.httpVersionMajor !== 1) return refuse(505, `HTTP/${head.httpVersionMajor}.${head.httpVersionMinor} is not supported; send HTTP/1.1`);
  const raw = head.rawHeaders;
  let hostAt = -1;
  let transferEncoding: string | undefined;
  let dropped: string[] | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // underscores_in_headers off: X_User_Id must not become HTTP_X_USER_ID next to X-User-Id.
    if (name.includes('_')) { (dropped ??= []).push(name); continue; }
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (hostAt >= 0) return refuse(400, 'the request has more than one Host header', 'Host');
      hostAt = i;
    } else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') {
      if (transferEncoding !== undefined) return refuse(400, 'the request has more than one Transfer-Encoding header', 'Transfer-Encoding');
      transferEncoding = raw[i + 1]!;
    }
  }
  if (transferEncoding !== undefined) {
    // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (head.httpVersionMinor === 0) return refuse(400, 'an HTTP/1.0 request cannot have a Transfer-Encoding header', 'Transfer-Encoding');
    if (transferEncoding.trim().toLowerCase() !== 'chunked') {
      return refuse(501, `Transfer-Encoding ${shown(transferEncoding)} is not implemented; only "chunked" is`, 'Transfer-Encoding');
    }
  }
  // node's own check answers with an empty body; this one names the header (RFC 9112 3.2).
  if (hostAt < 0 && head.httpVersionMinor >= 1) return refuse(400, 'an HTTP/1.1 request must have a Host header', 'Host');
  let host = hostAt >= 0 ? raw[hostAt + 1]! : '';
  if (!HOST.test(host)) return refuse(400, `the Host header ${shown(host)} is not a valid host`, 'Host');
  let url = head.url ?? '/';
  const rawHeaders = dropped ? raw.filter((_, i) => !raw[i - (i % 2)]!.includes('_')) : raw;
  if (url.charCodeAt(0) !== 47 /* / */ && !(url === '*' && head.method === 'OPTIONS')) {
    // Absolute form (RFC 9112 3.2.2): the target's authority replaces the Host header.
    const m = ABSOLUTE_FORM.exec(url);
    if (!m) return refuse(400, `the request target ${shown(url)} is neither a path nor an http(s) URL`);
    const authority = m[1]!;
    if (authority === '' || authority.includes('@') || !HOST.test(authority)) {
      return refuse(400, `the request target ${shown(url)} does not name a valid host`);
    }
    const rest = m[2]!;
    // `http://host?q` and `http://host#f` have an empty path: the app must still get one starting with "/" (found by spec/fuzz).
    url = rest === '' ? '/' : rest.charCodeAt(0) === 47 /* / */ ? rest : `/${rest}`;
    host = authority;
    const withHost = rawHeaders === raw ? [...raw] : rawHeaders;
    const at = withHost.findIndex((v, i) => i % 2 === 0 && v.toLowerCase() === 'host');
    if (at >= 0) withHost[at + 1] = authority; else withHost.unshift('Host', authority);
    return { ok: true, url, host, rawHeaders: withHost, dropped: dropped ?? [] };
  }
  return { ok: true, url, host, rawHeaders, dropped: dropped ?? [] };
}
