// From SCGI parameters (CGI-style names, as nginx and Apache send them) to
// the one request shape the forwarding path takes.
import type { Readable } from 'node:stream';
import type { FrontRequest } from '../front.ts';
import type { ProxyTrust } from '../trusted-proxies.ts';

/** HTTP_X_FORWARDED_FOR -> X-Forwarded-For. */
export function headerName(param: string): string {
  return param.slice(5).toLowerCase().split('_').map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w)).join('-');
}

/** Headers the CGI variables carry authoritatively; their HTTP_* copies are dropped. */
const FROM_CGI = new Set(['HTTP_CONTENT_LENGTH', 'HTTP_CONTENT_TYPE']);

function hasPort(host: string): boolean {
  const colon = host.lastIndexOf(':');
  return colon > 0 && !host.endsWith(']');
}

/**
 * The Host header the client sent. Debian's scgi_params passes `$host`, which
 * drops the port; put it back from SERVER_PORT unless it is the scheme's default.
 */
function clientHost(host: string, serverPort: number, https: boolean): string {
  if (!host || hasPort(host) || !serverPort || serverPort === (https ? 443 : 80)) return host;
  return `${host}:${serverPort}`;
}

export function isHttps(params: ReadonlyMap<string, string>): boolean {
  const v = (params.get('HTTPS') ?? '').toLowerCase();
  return v === 'on' || v === '1' || v === 'true' || params.get('REQUEST_SCHEME') === 'https';
}

export function wantsUpgrade(params: ReadonlyMap<string, string>): boolean {
  return params.has('HTTP_UPGRADE') && /(^|,)\s*upgrade\s*(,|$)/i.test(params.get('HTTP_CONNECTION') ?? '');
}

/** `trusts` tells whether REMOTE_ADDR (the front web server's client) is a trusted proxy. */
export function scgiFrontRequest(params: ReadonlyMap<string, string>, contentLength: number, body: Readable | null, trusts: ProxyTrust): FrontRequest {
  const https = isHttps(params);
  const serverPort = Number(params.get('SERVER_PORT')) || (https ? 443 : 80);
  const rawHeaders: string[] = [];
  let host = '';
  for (const [name, value] of params) {
    if (!name.startsWith('HTTP_') || FROM_CGI.has(name)) continue;
    // nginx de-chunks request bodies but still passes the header: the body is CONTENT_LENGTH bytes.
    if (name === 'HTTP_TRANSFER_ENCODING') continue;
    if (name === 'HTTP_HOST') { host = value; continue; }
    rawHeaders.push(headerName(name), value);
  }
  // HTTP/1.1 apps refuse a request without Host; front ends that do not pass it still know the server name.
  const serverName = params.get('SERVER_NAME') || host.replace(/:\d+$/, '') || 'localhost';
  rawHeaders.unshift('Host', clientHost(host || serverName, serverPort, https));
  const contentType = params.get('CONTENT_TYPE');
  if (contentType) rawHeaders.push('Content-Type', contentType);
  const method = params.get('REQUEST_METHOD') || 'GET';
  if (contentLength > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'].includes(method)) rawHeaders.push('Content-Length', String(contentLength));
  const protocol = params.get('SERVER_PROTOCOL') ?? 'HTTP/1.1';
  const uri = params.get('REQUEST_URI');
  const query = params.get('QUERY_STRING');
  const remoteAddress = params.get('REMOTE_ADDR') ?? '127.0.0.1';
  return {
    method,
    url: uri || `${params.get('SCRIPT_NAME') ?? ''}${params.get('PATH_INFO') ?? '/'}${query ? `?${query}` : ''}`,
    httpVersion: protocol.startsWith('HTTP/') ? protocol.slice(5) : '1.1',
    rawHeaders,
    remoteAddress,
    remotePort: Number(params.get('REMOTE_PORT')) || 0,
    serverName,
    serverPort,
    https,
    trustedProxy: trusts(remoteAddress),
    body: contentLength > 0 ? body : null,
    contentLength,
  };
}
