// The `session` protocol (docs/protocols.md section 2): Unix-socket connections
// carrying a binary CGI head, the body, and an HTTP/1.1 response that is
// validated before anything reaches the client. Loaders that report the
// `keepalive` socket flag get PASSENGER_KEEP_ALIVE on requests of known body
// length, and their connections are reused (at most `concurrency` per process,
// idle ones newest first); the others get one connection per request, whose
// write side closes after the body.
import type { ForwardOutcome, ForwardTarget, Protocol } from '../registries/protocols.ts';
import type { FrontRequest, FrontResponse } from '../server/front.ts';
import { encodeSessionHead } from './cgi-vars.ts';
import { Exchange, type Wire } from './exchange.ts';
import { releaseUpstreamPool, upstreamPool } from './upstream-pool.ts';

const sessionWire: Wire = {
  // Only a request of known length can be followed by another on the same connection.
  keepAlive: (pool, req) => pool.target.socket.keepAlive === true && (req.body === null || req.contentLength !== undefined),
  head: (req, target, keepAlive) => encodeSessionHead(req, target.connectPassword, target.baseUri, keepAlive),
  httpFraming: false,
};

function forward(target: ForwardTarget, req: FrontRequest, res: FrontResponse): Promise<ForwardOutcome> {
  return new Promise((resolve) => new Exchange(sessionWire, upstreamPool(target), req, res, resolve).start());
}

export const sessionProtocol: Protocol = { name: 'session', forward, release: releaseUpstreamPool };
