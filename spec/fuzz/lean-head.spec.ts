// Property-based fuzzing of the lean engine's head parser
// (core/server/http/lean-head.ts) against the oracle of node's own HTTP
// parser (llhttp, through node's HTTPParser): whatever bytes arrive, a head
// the lean parser accepts must be one node reads the same way (method,
// target, version, headers, keep-alive), with a body of the same length,
// the message ending at the same byte. Heads are built from a grammar and
// then mutated (bytes inserted, replaced, dropped), so most runs sit right at
// the edge between accepted and declined.
import { expect } from 'chai';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { DECLINE, INCOMPLETE, MAX_LEAN_BODY, parseLeanHead, type LeanHead } from '../../core/server/http/lean-head.ts';
import { fuzzParameters } from './fuzz-settings.ts';

interface NodeParserClass {
  new(): NodeParser;
  REQUEST: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}
interface NodeParser {
  initialize(type: number, resource: object): void;
  execute(data: Buffer): number | Error;
  [key: number]: unknown;
}
const { HTTPParser, methods } = createRequire(import.meta.url)('_http_common') as { HTTPParser: NodeParserClass; methods: string[] };

interface NodeHead { method: string; url: string; minor: number; major: number; headers: string[]; keepAlive: boolean; upgrade: boolean; bodyBytes: number; completeAt: number }

/** What node's parser makes of the bytes: the first message, or an error. */
function nodeParse(bytes: Buffer): NodeHead | Error | undefined {
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.REQUEST, {});
  let head: NodeHead | undefined;
  const headers: string[] = [];
  parser[HTTPParser.kOnHeaders] = (more: string[]) => { headers.push(...more); };
  parser[HTTPParser.kOnHeadersComplete] = (major: number, minor: number, hs: string[] | undefined, method: number, url: string, _s: unknown, _m: unknown, upgrade: boolean, keepAlive: boolean) => {
    head = { method: methods[method]!, url, major, minor, headers: [...headers, ...(hs ?? [])], keepAlive, upgrade, bodyBytes: 0, completeAt: -1 };
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => { if (head) head.bodyBytes += chunk.length; };
  // Byte by byte, so the end of the first message is known exactly.
  for (let i = 0; i < bytes.length; i++) {
    let done = false;
    parser[HTTPParser.kOnMessageComplete] = () => { done = true; };
    const r = parser.execute(bytes.subarray(i, i + 1));
    if (r instanceof Error) return r;
    if (done && head) { head.completeAt = i + 1; return head; }
  }
  return head;
}

/** Mostly the first (valid) choices, sometimes an odd one: accepted heads must be common, declined ones too. */
function mostly<T>(good: T[], odd: T[]): fc.Arbitrary<T> {
  return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...good) }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
}

const method = mostly(['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], ['get', 'GET ', 'HEA', 'POS', 'PATCH', 'OPTIONS', 'PROPFIND', 'TRACE', 'CONNECT']);
const target = mostly(['/', '/a/b?c=d&e=f', '/%20x', "/a;b=c,d'e(f)!$*+", '/~u/-._@:'], ['/x#frag', '/"q"', '*', 'http://h/x', '/\xe9', '']);
const version = mostly(['HTTP/1.1', 'HTTP/1.0'], ['HTTP/2.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1']);
const name = mostly(['Host', 'host', 'HOST', 'Accept', 'X-A', 'X_Under', 'Connection', 'Keep-Alive', 'If-None-Match', 'A', "x!#$%&'*+-.^_`|~", 'Content-Length', 'content-length'], ['Transfer-Encoding', 'Upgrade', 'Expect', 'X A', '']);
const colon = mostly([': ', ':', ':\t', ':   '], [' : ', ' :', '']);
const value = mostly(['example.com', 'localhost:3000', '', ' spaced ', 'a\tb', 'close', 'keep-alive', 'Keep-Alive, close', ' close ,keep-alive', '"etag"', 'a b  c', '0', '5', '12', ' 3 '], ['upgrade', 'close, TE', '05', '5, 5', '+5', '-1', '1e3', String(MAX_LEAN_BODY + 1), '10485760', '1000000000000000', 'chunked', '100-continue', 'v\x7fv', 'caf\xe9', 'a\x00b']);
const separator = mostly(['\r\n'], ['\n', '\r', '\r\n ', '\r\n\t']);

const header = fc.tuple(name, colon, value, separator).map(([n, c, v, sep]) => `${n}${c}${v}${sep}`);

const head = fc.record({
  method,
  target,
  version,
  headers: fc.array(header, { maxLength: 6 }),
  end: mostly(['\r\n'], ['\n', '']),
  // Body bytes, or a pipelined next request.
  tail: fc.constantFrom('', 'GET / HTTP/1.1\r\n', 'xyz', 'hello world!', 'hello world!GET / HTTP/1.1\r\n'),
}).map((h) => Buffer.from(`${h.method} ${h.target} ${h.version}\r\n${h.headers.join('')}${h.end}${h.tail}`, 'latin1'));

/** A request with a body and its own length (as clients send forms and JSON), for mutations to work on. */
const withBody = fc.record({
  method: mostly(['POST', 'PUT', 'PATCH'], ['GET', 'DELETE', 'HEAD']),
  target,
  headers: fc.array(header, { maxLength: 3 }),
  body: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
  tail: fc.constantFrom('', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
}).map((h) => Buffer.from(`${h.method} ${h.target} HTTP/1.1\r\nHost: x\r\n${h.headers.join('')}Content-Length: ${h.body.length}\r\n\r\n${h.body}${h.tail}`, 'latin1'));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), byte: fc.constant(0) }),
);

function mutate(bytes: Buffer, ms: readonly { kind: 'insert' | 'replace' | 'drop'; at: number; byte: number }[]): Buffer {
  let b = bytes;
  for (const m of ms) {
    const at = m.at % (b.length + 1);
    if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.of(m.byte), b.subarray(at)]);
    else if (at < b.length) b = m.kind === 'replace' ? Buffer.concat([b.subarray(0, at), Buffer.of(m.byte), b.subarray(at + 1)]) : Buffer.concat([b.subarray(0, at), b.subarray(at + 1)]);
  }
  return b;
}

function expectSameAsNode(bytes: Buffer, lean: LeanHead): void {
  const shown = JSON.stringify(bytes.toString('latin1'));
  const node = nodeParse(bytes);
  expect(node, `node refused what the lean parser accepted: ${shown} (${String(node)})`).to.not.be.instanceOf(Error);
  expect(node, `node found no head in ${shown}`).to.not.equal(undefined);
  const n = node as NodeHead;
  expect(n.method, shown).to.equal(lean.method);
  expect(n.url, shown).to.equal(lean.url);
  expect(n.major, shown).to.equal(1);
  expect(n.minor, shown).to.equal(lean.httpVersionMinor);
  expect(n.headers, shown).to.deep.equal(lean.rawHeaders);
  expect(n.keepAlive, shown).to.equal(lean.keepAlive);
  expect(n.upgrade, shown).to.equal(false);
  // The lean engine serves the request once its whole body came; node's message completes at that same byte.
  const end = lean.end + lean.contentLength;
  if (bytes.length < end) {
    expect(n.completeAt, `node completed a message the lean engine still waits for: ${shown}`).to.equal(-1);
    return;
  }
  expect(n.bodyBytes, shown).to.equal(lean.contentLength);
  expect(n.completeAt, `the message ends elsewhere for node: ${shown}`).to.equal(end);
}

describe('fuzz: the lean head parser against node\'s HTTP parser', () => {
  it('accepts only heads node reads the same way, ending at the same byte', () => {
    let accepted = 0;
    let bodies = 0;
    fc.assert(fc.property(fc.oneof(head, withBody), fc.oneof(fc.constant([]), fc.array(mutation, { minLength: 1, maxLength: 3 })), (h, ms) => {
      const bytes = mutate(h, ms);
      const lean = parseLeanHead(bytes, 0);
      if (lean === INCOMPLETE || lean === DECLINE) return;
      accepted++;
      if (lean.contentLength > 0 && bytes.length >= lean.end + lean.contentLength) bodies++;
      expectSameAsNode(bytes, lean);
    }), fuzzParameters(3000));
    // The grammar must reach the accepting side often, bodies included, or the property proves little.
    expect(accepted).to.be.greaterThan(100);
    expect(bodies).to.be.greaterThan(200);
  });

  it('says INCOMPLETE for every proper prefix of a head it accepts, and accepts the same head at an offset', () => {
    fc.assert(fc.property(head, (h) => {
      const whole = parseLeanHead(h, 0);
      if (whole === INCOMPLETE || whole === DECLINE) return;
      for (let cut = 0; cut < whole.end; cut++) expect(parseLeanHead(h.subarray(0, cut), 0), `prefix of ${cut} bytes`).to.equal(INCOMPLETE);
      const shifted = parseLeanHead(Buffer.concat([Buffer.from('junk'), h]), 4);
      expect(shifted).to.deep.equal({ ...whole, end: whole.end + 4 });
    }), fuzzParameters(500));
  });

  it('declines what needs node: chunked bodies, odd or huge lengths, upgrades, Expect, obs-fold, bare LF, non-ASCII, other methods', () => {
    const declined = [
      'PROPFIND / HTTP/1.1\r\nHost: x\r\n\r\n',
      'TRACE / HTTP/1.1\r\nHost: x\r\n\r\n',
      'OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000000\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 05\r\n\r\nhello',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello',
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n',
      'GET / HTTP/1.1\nHost: x\n\n',
      'GET /\xe9 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: caf\xe9\r\n\r\n',
      'GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/2.0\r\nHost: x\r\n\r\n',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`,
    ];
    for (const text of declined) expect(parseLeanHead(Buffer.from(text, 'latin1'), 0), JSON.stringify(text.slice(0, 80))).to.equal(DECLINE);
  });

  it('reads the length of a body of up to 15 digits, which follows the head (the connection streams one over MAX_LEAN_BODY)', () => {
    const h = parseLeanHead(Buffer.from('PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999\r\n\r\n'), 0);
    expect(h).to.include({ method: 'PUT', contentLength: 999_999_999_999_999 });
  });

  it('reads the length of a small body, which follows the head', () => {
    const h = parseLeanHead(Buffer.from('POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET', 'latin1'), 0);
    expect(h).to.include({ method: 'POST', url: '/form', contentLength: 5, end: 51 });
    expect(parseLeanHead(Buffer.from('DELETE /x HTTP/1.1\r\nHost: x\r\n\r\n'), 0)).to.include({ method: 'DELETE', contentLength: 0 });
    expect(parseLeanHead(Buffer.from('PO'), 0)).to.equal(INCOMPLETE);
  });
});
