// The strict session-protocol response parser, fed whole and byte by byte.
import { expect } from 'chai';
import fc from 'fast-check';
import { ResponseParseError, ResponseParser, type ResponseHead } from '../../../core/protocols/response-parser.ts';

interface Parsed { head: ResponseHead | undefined; body: string; done: boolean }

/** Feeds `input` in pieces of `step` bytes (0: all at once), then ends the connection if `close`. */
function parse(input: string | Buffer, opts: { step?: number; close?: boolean; head?: boolean } = {}): Parsed {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: Parsed = { head: undefined, body: '', done: false };
  const p = new ResponseParser({
    head: (h) => { expect(out.head, 'head reported twice').to.equal(undefined); out.head = h; },
    body: (c) => { out.body += c.toString('latin1'); },
  }, opts.head ?? false);
  const step = opts.step || bytes.length || 1;
  for (let i = 0; i < bytes.length; i += step) p.feed(bytes.subarray(i, i + step));
  if (opts.close ?? true) p.end();
  out.done = p.done;
  return out;
}

function errorOf(input: string | Buffer, opts: { step?: number; close?: boolean; head?: boolean } = {}): ResponseParseError {
  try { parse(input, opts); } catch (e) { if (e instanceof ResponseParseError) return e; throw e; }
  throw new Error('expected the parser to throw');
}

describe('ResponseParser', () => {
  const valid: { name: string; input: string; status: number; reason?: string; headers?: string[]; body: string; head?: boolean; close?: boolean }[] = [
    { name: 'Content-Length body', input: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello', status: 200, reason: 'OK', headers: ['Content-Type', 'text/plain', 'Content-Length', '5'], body: 'hello', close: false },
    { name: 'chunked body with extensions and trailers', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n', status: 200, headers: [], body: 'abc0123456789', close: false },
    { name: 'body until close (no framing)', input: 'HTTP/1.1 200 OK\r\n\r\nread until the end', status: 200, headers: [], body: 'read until the end' },
    { name: 'empty reason', input: 'HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n', status: 404, reason: '', body: '', close: false },
    { name: 'HTTP/1.0 status line, reason with spaces', input: 'HTTP/1.0 503 Service Temporarily Unavailable\r\nContent-Length: 0\r\n\r\n', status: 503, reason: 'Service Temporarily Unavailable', body: '', close: false },
    { name: '204 without a body', input: 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n', status: 204, headers: ['X-A', '1'], body: '', close: false },
    { name: '304 ignoring its Content-Length', input: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n', status: 304, body: '', close: false },
    { name: 'HEAD: Content-Length describes the GET body', input: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n', status: 200, body: '', head: true, close: false },
    { name: 'hop-by-hop headers removed', input: 'HTTP/1.1 200 OK\r\nConnection: close\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nX-Kept: yes\r\nContent-Length: 2\r\n\r\nok', status: 200, headers: ['X-Kept', 'yes', 'Content-Length', '2'], body: 'ok' },
    { name: 'optional whitespace around values', input: 'HTTP/1.1 200 OK\r\nX-A:\t  spaced \t\r\nX-B:\r\nContent-Length: 0\r\n\r\n', status: 200, headers: ['X-A', 'spaced', 'X-B', '', 'Content-Length', '0'], body: '' },
    { name: 'repeated headers kept in order', input: 'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n', status: 200, headers: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Content-Length', '0'], body: '' },
    { name: 'identical repeated Content-Length passed on once', input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok', status: 200, headers: ['Content-Length', '2'], body: 'ok' },
    { name: 'interim 100 and 103 responses skipped', input: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal', status: 200, reason: 'OK', headers: ['Content-Length', '5'], body: 'final', close: false },
    { name: 'Latin-1 and UTF-8 bytes in values', input: 'HTTP/1.1 200 OK\r\nX-Name: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n', status: 200, headers: ['X-Name', 'caf\xc3\xa9', 'Content-Length', '0'], body: '' },
  ];
  for (const c of valid) {
    for (const step of [0, 1, 7]) {
      it(`parses ${c.name} (${step === 0 ? 'one piece' : `${step}-byte pieces`})`, () => {
        const r = parse(c.input, { step, head: c.head, close: c.close });
        expect(r.head!.status).to.equal(c.status);
        if (c.reason !== undefined) expect(r.head!.reason).to.equal(c.reason);
        if (c.headers) expect(r.head!.headers).to.deep.equal(c.headers);
        expect(r.body).to.equal(c.body);
        expect(r.done).to.equal(true);
      });
    }
  }

  it('reports the framing it found', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc').head).to.deep.include({ contentLength: 3, chunked: false });
    expect(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n').head).to.deep.include({ contentLength: undefined, chunked: true });
  });

  it('says whether the connection may carry another request, and for how long the app keeps it idle', () => {
    const head = (text: string) => parse(`${text}\r\nContent-Length: 0\r\n\r\n`).head!;
    expect(head('HTTP/1.1 200 OK')).to.deep.include({ close: false, keepAliveTimeoutSec: undefined });
    expect(head('HTTP/1.1 200 OK\r\nConnection: Close')).to.deep.include({ close: true });
    expect(head('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100')).to.deep.include({ close: false, keepAliveTimeoutSec: 5 });
    expect(head('HTTP/1.0 200 OK')).to.deep.include({ close: true });
    expect(head('HTTP/1.0 200 OK\r\nConnection: keep-alive')).to.deep.include({ close: false });
  });

  it('drops the headers that Connection names, and proxy authentication headers', () => {
    const h = parse('HTTP/1.1 200 OK\r\nConnection: X-Hop, keep-alive\r\nX-Hop: 1\r\nX-End: 2\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n').head!;
    expect(h.headers).to.deep.equal(['X-End', '2', 'Content-Length', '0']);
  });

  it('is not done before the last byte of a framed body', () => {
    const p = new ResponseParser({ head: () => undefined, body: () => undefined }, false);
    p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab'));
    expect(p.headReceived).to.equal(true);
    expect(p.done).to.equal(false);
    p.feed(Buffer.from('c'));
    expect(p.done).to.equal(true);
  });

  it('passes a large chunked body through in order', () => {
    const parts = Array.from({ length: 50 }, (_, i) => String.fromCharCode(65 + (i % 26)).repeat(1000 + i * 37));
    const input = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + parts.map((s) => `${s.length.toString(16)}\r\n${s}\r\n`).join('') + '0\r\n\r\n';
    expect(parse(input, { step: 4093, close: false }).body).to.equal(parts.join(''));
  });

  const invalid: { name: string; input: string | Buffer; error: RegExp; close?: boolean }[] = [
    { name: 'a status line that is not HTTP', input: 'HELLO 200 OK\r\n\r\n', error: /invalid status line "HELLO 200 OK"/ },
    { name: 'a status line without a code', input: 'HTTP/1.1 OK\r\n\r\n', error: /invalid status line "HTTP\/1\.1 OK"/ },
    { name: 'a two-digit status', input: 'HTTP/1.1 20 OK\r\n\r\n', error: /invalid status line/ },
    { name: 'HTTP/2 in the status line', input: 'HTTP/2 200 OK\r\n\r\n', error: /invalid status line/ },
    { name: 'a status below 100', input: 'HTTP/1.1 099 Low\r\n\r\n', error: /invalid status code 99/ },
    { name: 'a status above 599', input: 'HTTP/1.1 600 High\r\n\r\n', error: /invalid status code 600/ },
    { name: 'a bare LF in the reason', input: 'HTTP/1.1 200 O\nK\r\n\r\n', error: /invalid status line/ },
    { name: 'a NUL in the reason', input: 'HTTP/1.1 200 O\0K\r\n\r\n', error: /invalid characters in the status line/ },
    { name: 'a 101 (nothing upgrades on this protocol)', input: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', error: /101 Switching Protocols, but the session protocol has no upgrades/ },
    { name: 'an interim response without a final one', input: 'HTTP/1.1 100 Continue\r\n\r\n', error: /connection closed after an interim \(1xx\) response, before the final one/ },
    { name: 'an invalid interim head', input: 'HTTP/1.1 100 Continue\r\nX-A: a\nb\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', error: /header "X-A" has a CR, LF or NUL/ },
    { name: 'a header line without a colon', input: 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', error: /invalid header line "no colon here"/ },
    { name: 'an empty header name', input: 'HTTP/1.1 200 OK\r\n: value\r\n\r\n', error: /invalid header line/ },
    { name: 'a space in a header name', input: 'HTTP/1.1 200 OK\r\nX Bad: 1\r\n\r\n', error: /invalid header name "X Bad"/ },
    { name: 'whitespace before the colon', input: 'HTTP/1.1 200 OK\r\nX-Bad : 1\r\n\r\n', error: /invalid header name "X-Bad "/ },
    { name: 'a CR in a header name', input: 'HTTP/1.1 200 OK\r\nX-\rBad: 1\r\n\r\n', error: /invalid header name/ },
    { name: 'a LF in a header name (injection)', input: 'HTTP/1.1 200 OK\r\nX-A\nSet-Cookie: evil=1\r\n\r\n', error: /invalid header name/ },
    { name: 'a CR inside a header value', input: 'HTTP/1.1 200 OK\r\nX-A: one\rtwo\r\n\r\n', error: /header "X-A" has a CR, LF or NUL in its value/ },
    { name: 'a LF inside a header value (injection)', input: 'HTTP/1.1 200 OK\r\nX-A: one\nSet-Cookie: evil=1\r\n\r\n', error: /header "X-A" has a CR, LF or NUL/ },
    { name: 'a CR at the end of a header value', input: 'HTTP/1.1 200 OK\r\nX-A: one\r\r\nContent-Length: 0\r\n\r\n', error: /header "X-A" has a CR, LF or NUL/ },
    { name: 'a LF at the start of a header value', input: 'HTTP/1.1 200 OK\r\nX-A:\nfolded\r\nContent-Length: 0\r\n\r\n', error: /header "X-A" has a CR, LF or NUL/ },
    { name: 'a NUL in a header value', input: 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n', error: /header "X-A" has a CR, LF or NUL/ },
    { name: 'a non-numeric Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n', error: /invalid Content-Length "12abc"/ },
    { name: 'a negative Content-Length', input: 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', error: /invalid Content-Length "-1"/ },
    { name: 'conflicting Content-Lengths', input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n', error: /invalid Content-Length "3"/ },
    { name: 'Content-Length with chunked', input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n', error: /both Content-Length and Transfer-Encoding: chunked/ },
    { name: 'an unsupported Transfer-Encoding', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', error: /unsupported Transfer-Encoding "gzip, chunked"/ },
    { name: 'a head larger than 64 KiB', input: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70000)}\r\n\r\n`, error: /response head larger than 65536 bytes/ },
    { name: 'a head that never ends', input: `HTTP/1.1 200 OK\r\n${'X-Many: header\r\n'.repeat(5000)}`, error: /response head larger than 65536 bytes/ },
    { name: 'an invalid chunk size', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', error: /invalid chunk size line "zz"/ },
    { name: 'a chunk size too large', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n', error: /invalid chunk size line/ },
    { name: 'chunk data longer than announced', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n', error: /chunk data not followed by CRLF/ },
    { name: 'bytes after a Content-Length body', input: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA', error: /unexpected bytes after the end of the response/ },
    { name: 'bytes after the last chunk', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX', error: /unexpected bytes after the end/ },
    { name: 'a body after a 204', input: 'HTTP/1.1 204 No Content\r\n\r\nbody', error: /unexpected bytes after the end/ },
    { name: 'nothing at all', input: '', error: /connection closed without a response/ },
    { name: 'a cut-off status line', input: 'HTTP/1.1 200', error: /connection closed in the middle of the response head/ },
    { name: 'a head without its empty line', input: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n', error: /connection closed in the middle of the response head/ },
    { name: 'a head ended by bare LFs', input: 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', error: /connection closed in the middle of the response head/ },
    { name: 'a truncated Content-Length body', input: 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', error: /response truncated: 7 of the announced Content-Length bytes missing/ },
    { name: 'a chunked body without its last chunk', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n', error: /chunked body ended without its final chunk/ },
    { name: 'a chunked body cut inside a chunk', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc', error: /chunked body ended without its final chunk/ },
    { name: 'a chunked body cut inside the trailers', input: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n', error: /chunked body ended without its final chunk/ },
  ];
  for (const c of invalid) {
    // Large inputs in 997-byte pieces: byte by byte would only measure Buffer.concat.
    for (const step of [0, c.input.length > 4096 ? 997 : 1]) {
      it(`rejects ${c.name}${step ? ` (${step}-byte pieces)` : ''}`, () => {
        expect(errorOf(c.input, { step }).message).to.match(c.error);
      });
    }
  }

  it('counts the unexpected bytes that arrived with the end of the body', () => {
    expect(errorOf('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA').message).to.equal('5 unexpected bytes after the end of the response');
  });

  it('never reports the head of a response it rejects', () => {
    let heads = 0;
    const p = new ResponseParser({ head: () => { heads++; }, body: () => undefined }, false);
    expect(() => p.feed(Buffer.from('HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: a\nb\r\n\r\n'))).to.throw(ResponseParseError);
    expect(heads).to.equal(0);
  });

  it('accepts a large head that arrives in one piece up to the limit', () => {
    const head = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(60000)}\r\nContent-Length: 0\r\n\r\n`;
    expect(parse(head).head!.status).to.equal(200);
  });

  it('reads status lines as the pattern /^HTTP\\/1\\.([01]) (\\d{3})(?: (.*))?$/ does, with its 100-599 and CR/LF/NUL rules (fast-check)', () => {
    const pattern = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;
    const piece = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', ' ', '  ', '200', '099', '600', '404', '1x0', 'OK', 'Not Found', '\0', '\r', '\u2028', '\t', '\u00e9', '', '20', '2000');
    fc.assert(fc.property(fc.array(piece, { maxLength: 6 }), (pieces) => {
      const line = pieces.join('');
      const m = pattern.exec(line);
      const expected = m && Number(m[2]) >= 100 && Number(m[2]) <= 599 && !/[\r\n\0]/.test(m[3] ?? '') ? { status: Number(m[2]), reason: m[3] ?? '', http10: m[1] === '0' } : undefined;
      let got: { status: number; reason: string; http10: boolean } | undefined;
      try {
        const h = parse(`${line}\r\nContent-Length: 0\r\n\r\n`).head!;
        got = { status: h.status, reason: h.reason, http10: h.close };
      } catch (e) {
        if (!(e instanceof ResponseParseError)) throw e;
      }
      // An HTTP/1.0 response without keep-alive closes the connection: that is how its version shows.
      expect(got, JSON.stringify(line)).to.deep.equal(expected);
    }), { numRuns: 3000 });
  });

  it('reads Content-Length as digits only, and Keep-Alive\'s timeout from each response', () => {
    expect(parse('HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\nabcdefg').head!.contentLength).to.equal(7);
    for (const bad of ['', '+1', '-1', '1.0', '0x1', '1 2', '1,1']) {
      expect(errorOf(`HTTP/1.1 200 OK\r\nContent-Length: ${bad}\r\n\r\n`).message, bad).to.equal(`invalid Content-Length "${bad}"`);
    }
    const timeout = (ka: string) => parse(`HTTP/1.1 200 OK\r\nKeep-Alive: ${ka}\r\nContent-Length: 0\r\n\r\n`).head!.keepAliveTimeoutSec;
    expect([timeout('timeout=5'), timeout('timeout=5'), timeout('max=3'), timeout('timeout=9'), timeout('timeout=5')]).to.deep.equal([5, 5, undefined, 9, 5]);
  });
});
