import { expect } from 'chai';
import { ScgiHeadParser, type ScgiLimits } from '../../../../core/server/scgi/parser.ts';
import { PassengerError } from '../../../../core/errors/passenger-error.ts';

/** A netstring around NUL-joined strings. */
function scgi(strings: string[], extra = ''): Buffer {
  const block = strings.map((s) => `${s}\0`).join('');
  return Buffer.from(`${Buffer.byteLength(block)}:${block},${extra}`, 'latin1');
}

function parseAll(bytes: Buffer, limits?: ScgiLimits) {
  return new ScgiHeadParser(limits).push(bytes);
}

describe('SCGI head parser', () => {
  it('parses a head, keeps the order and returns the body bytes that followed', () => {
    const head = parseAll(scgi(['CONTENT_LENGTH', '5', 'SCGI', '1', 'REQUEST_METHOD', 'POST', 'PASSENGER_APP_ROOT', '/srv/app'], 'hello'))!;
    expect([...head.params.keys()]).to.deep.equal(['CONTENT_LENGTH', 'SCGI', 'REQUEST_METHOD', 'PASSENGER_APP_ROOT']);
    expect(head.contentLength).to.equal(5);
    expect(head.rest.toString()).to.equal('hello');
  });

  it('accepts an empty value', () => {
    const head = parseAll(scgi(['CONTENT_LENGTH', '0', 'QUERY_STRING', '']))!;
    expect(head.params.get('QUERY_STRING')).to.equal('');
  });

  it('is incremental: the same result one byte at a time', () => {
    const bytes = scgi(['CONTENT_LENGTH', '3', 'REQUEST_URI', '/a?b=c', 'HTTP_HOST', 'example.test'], 'abc');
    const parser = new ScgiHeadParser();
    let head;
    for (let i = 0; i < bytes.length && !head; i++) head = parser.push(bytes.subarray(i, i + 1));
    expect(head!.params.get('HTTP_HOST')).to.equal('example.test');
    expect(parser.done).to.equal(true);
  });

  it('asks for more while the head is incomplete', () => {
    const bytes = scgi(['CONTENT_LENGTH', '0']);
    const parser = new ScgiHeadParser();
    expect(parser.push(bytes.subarray(0, 2))).to.equal(undefined);
    expect(parser.push(bytes.subarray(2, bytes.length - 1))).to.equal(undefined);
    expect(parser.push(bytes.subarray(bytes.length - 1))).to.not.equal(undefined);
  });

  const small: ScgiLimits = { maxHeaderBytes: 200, maxHeaders: 4 };
  const cases: { name: string; bytes: Buffer; code: string; match: RegExp; limits?: ScgiLimits }[] = [
    { name: 'a letter in the length', bytes: Buffer.from('1x:CONTENT_LENGTH\x000\x00,'), code: 'PSG_ERR_SCGI_MALFORMED', match: /byte 1 is "x"/ },
    { name: 'a request that is plain HTTP', bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n'), code: 'PSG_ERR_SCGI_MALFORMED', match: /byte 0 is "G"/ },
    { name: 'no digits before the colon', bytes: Buffer.from(':CONTENT_LENGTH\x000\x00,'), code: 'PSG_ERR_SCGI_MALFORMED', match: /no length/ },
    { name: 'a leading zero', bytes: Buffer.from('017:CONTENT_LENGTH\x000\x00,'), code: 'PSG_ERR_SCGI_MALFORMED', match: /leading zero/ },
    { name: 'a length with more digits than any allowed size (missing colon)', bytes: Buffer.from('12345678901234567890'), code: 'PSG_ERR_SCGI_TOO_LARGE', match: /larger than/ },
    { name: 'a missing comma', bytes: Buffer.from('17:CONTENT_LENGTH\x000\x00;'), code: 'PSG_ERR_SCGI_MALFORMED', match: /comma at byte 20/ },
    { name: 'a header block not NUL-terminated', bytes: Buffer.from('16:CONTENT_LENGTH\x000,'), code: 'PSG_ERR_SCGI_MALFORMED', match: /does not end with a NUL/ },
    { name: 'an empty header block', bytes: Buffer.from('0:,'), code: 'PSG_ERR_SCGI_MALFORMED', match: /NUL/ },
    { name: 'an odd number of strings', bytes: scgi(['CONTENT_LENGTH', '0', 'SCGI']), code: 'PSG_ERR_SCGI_MALFORMED', match: /SCGI has no value/ },
    { name: 'CONTENT_LENGTH not first', bytes: scgi(['SCGI', '1', 'CONTENT_LENGTH', '0']), code: 'PSG_ERR_SCGI_MALFORMED', match: /first header must be CONTENT_LENGTH, got SCGI/ },
    { name: 'CONTENT_LENGTH not a number', bytes: scgi(['CONTENT_LENGTH', '12abc']), code: 'PSG_ERR_SCGI_MALFORMED', match: /CONTENT_LENGTH is not a decimal number/ },
    { name: 'CONTENT_LENGTH negative', bytes: scgi(['CONTENT_LENGTH', '-1']), code: 'PSG_ERR_SCGI_MALFORMED', match: /not a decimal/ },
    { name: 'CONTENT_LENGTH empty', bytes: scgi(['CONTENT_LENGTH', '']), code: 'PSG_ERR_SCGI_MALFORMED', match: /not a decimal/ },
    { name: 'an empty header name', bytes: scgi(['CONTENT_LENGTH', '0', '', 'x']), code: 'PSG_ERR_SCGI_MALFORMED', match: /empty header name at byte 20/ },
    { name: 'a duplicate key', bytes: scgi(['CONTENT_LENGTH', '0', 'HTTP_HOST', 'a', 'HTTP_HOST', 'b']), code: 'PSG_ERR_SCGI_MALFORMED', match: /duplicate header HTTP_HOST/ },
    { name: 'a CR or LF in a value (it would forge headers for http_session apps)', bytes: scgi(['CONTENT_LENGTH', '0', 'HTTP_X_A', 'v\r\nX-Forged: 1']), code: 'PSG_ERR_SCGI_MALFORMED', match: /header HTTP_X_A has a CR or LF in its value/ },
    { name: 'a LF in a header name', bytes: scgi(['CONTENT_LENGTH', '0', 'HTTP_X\nY', 'v']), code: 'PSG_ERR_SCGI_MALFORMED', match: /header name with a CR or LF at byte 20/ },
    { name: 'a header block over the size limit', bytes: scgi(['CONTENT_LENGTH', '0', 'HTTP_COOKIE', 'x'.repeat(300)]), code: 'PSG_ERR_SCGI_TOO_LARGE', match: /larger than 200/, limits: small },
    { name: 'too many headers', bytes: scgi(['CONTENT_LENGTH', '0', 'A', '1', 'B', '2', 'C', '3', 'D', '4']), code: 'PSG_ERR_SCGI_TOO_LARGE', match: /more than 4 headers/, limits: small },
  ];

  for (const c of cases) {
    it(`rejects ${c.name}`, () => {
      let caught: unknown;
      try { parseAll(c.bytes, c.limits); } catch (e) { caught = e; }
      expect(caught, 'an error').to.be.instanceOf(PassengerError);
      expect((caught as PassengerError).code).to.equal(c.code);
      expect((caught as PassengerError).message).to.match(c.match);
    });
  }

  it('rejects an oversized head as soon as the length is known, before the block arrives', () => {
    const parser = new ScgiHeadParser({ maxHeaderBytes: 1000, maxHeaders: 10 });
    expect(() => parser.push(Buffer.from('5000:'))).to.throw(/5000 bytes, larger than 1000/);
  });
});
