// ssl_redirect: a plain-HTTP request on `port` is sent to the same URL on
// ssl_port. 301 keeps GET and HEAD; other methods get 308, which keeps the
// method and body (a 301 would let clients turn a POST into a GET).
import type http from 'node:http';

/** The Host header's name without its port (IPv6 literals keep their brackets). */
function hostName(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : host;
  }
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

export function redirectToHttps(req: http.IncomingMessage, res: http.ServerResponse, sslPort: number): void {
  const name = hostName(req.headers.host ?? '') || req.socket.localAddress || 'localhost';
  const location = `https://${name}${sslPort === 443 ? '' : `:${sslPort}`}${req.url ?? '/'}`;
  const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308;
  const body = `${status} Moved to HTTPS: ${location}\n`;
  res.writeHead(status, { Location: location, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
