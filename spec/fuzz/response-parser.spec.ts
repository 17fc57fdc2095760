// Property-based fuzzing of the session-protocol response parser
// (core/protocols/response-parser.ts): any bytes, in any pieces, either parse
// or fail with a ResponseParseError (never another error, never a hang), and a
// well-formed response (Content-Length, chunked, or read until close; with
// interim 1xx responses before it) parses back to its status, headers and body
// however it was split.
import { expect } from 'chai';
import fc from 'fast-check';
import { ResponseParseError, ResponseParser, type ResponseHead } from '../../core/protocols/response-parser.ts';
import { fuzzParameters, splitAt } from './fuzz-settings.ts';

interface Parsed { head?: ResponseHead; body: Buffer[]; done: boolean; error?: ResponseParseError }

function run(pieces: Buffer[], noBody = false, close = true): Parsed {
  const out: Parsed = { body: [], done: false };
  const parser = new ResponseParser({ head: (h) => { out.head = h; }, body: (c) => { out.body.push(Buffer.from(c)); } }, noBody);
  try {
    for (const p of pieces) parser.feed(p);
    if (close) parser.end();
    out.done = parser.done;
  } catch (e) {
    if (!(e instanceof ResponseParseError)) throw e;
    out.error = e;
  }
  return out;
}

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'content-length']);
const headerName = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 12 }).filter((n) => !HOP.has(n.toLowerCase()));
/** A field value: visible latin-1 and inner spaces, no leading or trailing whitespace (the parser trims it). */
const headerValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 30 }).map((v) => v.trim());

const response = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  reason: fc.constantFrom('OK', 'Not Found', '', 'Whatever It Says'),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }),
  body: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  framing: fc.constantFrom('length', 'chunked', 'close'),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
  interim: fc.constantFrom(0, 1, 2),
  cuts: fc.array(fc.nat(), { maxLength: 10 }),
});

interface Response { status: number; reason: string; headers: [string, string][]; body: Buffer; framing: string; chunkSizes: number[]; interim: number }

function encode(r: Response): Buffer {
  const lines = [`HTTP/1.1 ${r.status}${r.reason === '' ? '' : ` ${r.reason}`}`, ...r.headers.map(([n, v]) => `${n}: ${v}`)];
  if (r.framing === 'length') lines.push(`Content-Length: ${r.body.length}`);
  if (r.framing === 'chunked') lines.push('Transfer-Encoding: chunked');
  const parts: Buffer[] = [];
  for (let i = 0; i < r.interim; i++) parts.push(Buffer.from('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'));
  parts.push(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
  if (r.framing === 'chunked') {
    let at = 0;
    let i = 0;
    while (at < r.body.length) {
      const n = Math.min(r.chunkSizes[i++ % r.chunkSizes.length]!, r.body.length - at);
      parts.push(Buffer.from(`${n.toString(16)};ext=1\r\n`), r.body.subarray(at, at + n), Buffer.from('\r\n'));
      at += n;
    }
    parts.push(Buffer.from('0\r\nX-Trailer: t\r\n\r\n'));
  } else {
    parts.push(r.body);
  }
  return Buffer.concat(parts);
}

describe('fuzz: session-protocol response parser', function () {
  this.timeout(15000);

  it('round-trips every well-formed response, however it is split', () => {
    fc.assert(fc.property(response, (r) => {
      const out = run(splitAt(encode(r), r.cuts), false, r.framing === 'close');
      expect(out.error, out.error?.message).to.equal(undefined);
      expect(out.done, 'the parser saw the end of the response').to.equal(true);
      expect(out.head!.status).to.equal(r.status);
      expect(out.head!.reason).to.equal(r.reason);
      // Content-Length is end-to-end (passed on); Transfer-Encoding is hop-by-hop (dropped).
      expect(out.head!.headers).to.deep.equal([...r.headers.flat(), ...(r.framing === 'length' ? ['Content-Length', String(r.body.length)] : [])]);
      expect(out.head!.chunked).to.equal(r.framing === 'chunked');
      expect(out.head!.contentLength).to.equal(r.framing === 'length' ? r.body.length : undefined);
      expect(Buffer.concat(out.body).equals(r.body), 'the body arrives byte for byte').to.equal(true);
    }), fuzzParameters(500));
  });

  it('passes no body for HEAD, 204 and 304, whatever the headers announce', () => {
    fc.assert(fc.property(response, fc.constantFrom<'head' | 204 | 304>('head', 204, 304), (r, why) => {
      const status: number = why === 'head' ? r.status : why;
      // Content-Length announces a body that never comes: the parser must not wait for it.
      const bytes = encode({ ...r, status, headers: [...r.headers, ['Content-Length', String(r.body.length + 1)]], body: Buffer.alloc(0), framing: 'close' });
      const out = run(splitAt(bytes, r.cuts), why === 'head', false);
      expect(out.error, out.error?.message).to.equal(undefined);
      expect(out.done).to.equal(true);
      expect(out.body).to.deep.equal([]);
    }), fuzzParameters(200));
  });

  it('answers any bytes with a response or a ResponseParseError, never another error', () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc.tuple(response, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 })).map(([r, damage]) => {
        const bytes = encode(r);
        for (const [at, byte] of damage) if (bytes.length > 0) bytes[at % bytes.length] = byte;
        return bytes;
      }),
      // Framing lines near the grammar: chunk sizes, lengths and status lines a broken loader might send.
      fc.tuple(fc.constantFrom('HTTP/1.1 200 OK\r\n', 'HTTP/1.0 200 OK\r\n', 'HTTP/1.1 101 Up\r\n', 'HTTP/1.1 099 X\r\n', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n'),
        fc.array(fc.constantFrom('Content-Length: 5\r\n', 'Content-Length: 99999999999999999999\r\n', 'Content-Length: -1\r\n', 'Transfer-Encoding: gzip\r\n', 'Connection: close, X-A\r\n', 'X-A: 1\r\n', ' folded\r\n', ': v\r\n'), { maxLength: 4 }),
        fc.constantFrom('\r\n', '\r\n\r\n'),
        fc.array(fc.constantFrom('5\r\nhello\r\n', 'fffffffff\r\n', '0\r\n\r\n', '-1\r\n', 'zz\r\n', 'abc', '\r\n', '0\r\n'), { maxLength: 4 }),
      ).map((parts) => Buffer.from(parts.flat().join(''), 'latin1')),
    );
    fc.assert(fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 10 }), fc.boolean(), fc.boolean(), (bytes, cuts, noBody, close) => {
      const out = run(splitAt(bytes, cuts), noBody, close);
      if (out.error) {
        expect(out.error.message.length, 'the message is short (it goes into a log line)').to.be.below(200);
      } else if (out.head) {
        for (let i = 0; i < out.head.headers.length; i++) expect(out.head.headers[i]).to.not.match(/[\r\n\0]/);
        expect(out.head.status).to.be.within(200, 599);
      }
    }), fuzzParameters(3000));
  });
});
