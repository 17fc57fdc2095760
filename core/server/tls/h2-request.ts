// HTTP/2 requests go through the same engine path as HTTP/1.1 ones (via
// node's compatibility API), after the differences the engine and the apps
// must not see are smoothed out here: pseudo-headers (:authority becomes
// Host), a body without Content-Length, and response headers HTTP/2 forbids
// (Connection, Transfer-Encoding...: node throws on them) or ignores (the reason phrase).
import type http from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/** Connection-specific headers (RFC 9113 8.2.2), which an app may well send. */
const FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function allowed(name: string): boolean {
  return !FORBIDDEN.has(name.toLowerCase());
}

export function adaptHttp2(req: Http2ServerRequest, res: Http2ServerResponse): { req: http.IncomingMessage; res: http.ServerResponse } {
  const headers = req.headers;
  const authority = headers[':authority'];
  if (headers.host === undefined && authority !== undefined) headers.host = authority;
  const raw: string[] = ['Host', headers.host ?? ''];
  const given = req.rawHeaders;
  for (let i = 0; i < given.length; i += 2) {
    const name = given[i]!;
    if (name.charCodeAt(0) === 58 /* : */ || name.toLowerCase() === 'host') continue;
    raw.push(name, given[i + 1]!);
  }
  Object.defineProperty(req, 'rawHeaders', { value: raw });
  // HTTP/2 frames the body itself: one without Content-Length is the engine's "length unknown" (chunked) case.
  if (!req.stream.endAfterHeaders && headers['content-length'] === undefined) headers['transfer-encoding'] = 'chunked';
  const writeHead = res.writeHead.bind(res) as (status: number, headers?: unknown) => Http2ServerResponse;
  Object.defineProperty(res, 'writeHead', {
    value(status: number, reasonOrHeaders?: unknown, maybeHeaders?: unknown) {
      const given = typeof reasonOrHeaders === 'string' ? maybeHeaders : reasonOrHeaders;
      if (Array.isArray(given)) {
        const kept: string[] = [];
        for (let i = 0; i < given.length; i += 2) if (allowed(String(given[i]))) kept.push(String(given[i]), String(given[i + 1]));
        return writeHead(status, kept);
      }
      if (given && typeof given === 'object') {
        return writeHead(status, Object.fromEntries(Object.entries(given).filter(([k]) => allowed(k))));
      }
      return writeHead(status);
    },
  });
  const setHeader = res.setHeader.bind(res);
  Object.defineProperty(res, 'setHeader', {
    value(name: string, value: number | string | readonly string[]) { return allowed(name) ? setHeader(name, value) : res; },
  });
  return { req: req as unknown as http.IncomingMessage, res: res as unknown as http.ServerResponse };
}
