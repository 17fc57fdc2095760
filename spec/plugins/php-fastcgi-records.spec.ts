// The PHP plugin's FastCGI records and CGI response head, cut at every byte:
// a response split anywhere by the socket reads the same as one in one piece.
import { expect } from 'chai';
// @ts-expect-error: the plugin is plain JavaScript (checked with @ts-check), without declarations
import { RecordReader, paramsRecords, recordHeader, STDOUT, STDERR, END_REQUEST, PARAMS, MAX_CONTENT } from '../../examples/plugins/php/lib/fastcgi-records.js';
// @ts-expect-error: as above
import { CgiHeadReader, parseCgiHead } from '../../examples/plugins/php/lib/cgi-response-head.js';

type Rec = [number, number, Buffer];

function record(type: number, content: Buffer, padding = 0): Buffer {
  const h = recordHeader(type, 1, content.length) as Buffer;
  h[6] = padding;
  return Buffer.concat([h, content, Buffer.alloc(padding)]);
}

/** Reads `bytes` fed in pieces of `size`, merging consecutive pieces of one record. */
function readAll(bytes: Buffer, size: number): Rec[] {
  const out: Rec[] = [];
  const reader = new RecordReader((type: number, id: number, content: Buffer) => {
    const last = out.at(-1);
    if (last && last[0] === type && (type === STDOUT || type === STDERR) && content.length > 0 && last[2].length > 0) last[2] = Buffer.concat([last[2], content]);
    else out.push([type, id, Buffer.from(content)]);
  });
  for (let i = 0; i < bytes.length; i += size) reader.feed(bytes.subarray(i, i + size));
  return out;
}

describe('passenger-plugin-php: FastCGI records', () => {
  const end = Buffer.from([0, 0, 0, 7, 0, 0, 0, 0]);
  const stream = Buffer.concat([
    record(STDOUT, Buffer.from('Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot here')),
    record(STDERR, Buffer.from('PHP Warning: x'), 3),
    record(STDOUT, Buffer.alloc(0)),
    record(END_REQUEST, end, 5),
  ]);

  for (const size of [1, 2, 7, 8, 9, 13, stream.length]) {
    it(`reads the same records fed ${size} byte(s) at a time`, () => {
      const recs = readAll(stream, size);
      expect(recs.map((r) => [r[0], r[2].toString('latin1')])).to.deep.equal([
        [STDOUT, 'Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot here'],
        [STDERR, 'PHP Warning: x'],
        [STDOUT, ''],
        [END_REQUEST, end.toString('latin1')],
      ]);
    });
  }

  it('refuses a record of another version', () => {
    const bad = record(STDOUT, Buffer.from('x'));
    bad[0] = 2;
    expect(() => new RecordReader(() => {}).feed(bad)).to.throw(/version 2/);
  });

  it('encodes PARAMS with 1- and 4-byte lengths, split into records of at most 65535 bytes, then the empty one', () => {
    const long = 'v'.repeat(MAX_CONTENT + 100);
    const bytes = paramsRecords(1, ['A', 'b', 'LONG', long]) as Buffer;
    const recs = readAll(bytes, bytes.length);
    expect(recs.every((r) => r[0] === PARAMS)).to.equal(true);
    expect(recs.at(-1)![2].length).to.equal(0);
    const body = Buffer.concat(recs.map((r) => r[2]));
    expect([...body.subarray(0, 4)]).to.deep.equal([1, 1, 65, 98]);
    expect(body[4]).to.equal(4);
    expect(body.readUInt32BE(5)).to.equal((long.length | 0x80000000) >>> 0);
    expect(body.subarray(13).toString()).to.equal(long);
    expect(recs.length).to.equal(3);
  });
});

describe('passenger-plugin-php: CGI response head', () => {
  it('takes the status from Status, defaults to 200, and makes a Location without Status a 302', () => {
    expect(parseCgiHead('Status: 404 Not Found\r\nX-A: 1')).to.deep.equal({ status: 404, reason: 'Not Found', headers: ['X-A', '1'], contentLength: undefined });
    expect(parseCgiHead('Content-Type: text/html').status).to.equal(200);
    expect(parseCgiHead('Location: /elsewhere').status).to.equal(302);
  });

  it('drops hop-by-hop headers and refuses a bad name, a bad Status and conflicting lengths', () => {
    expect(parseCgiHead('Connection: close\r\nTransfer-Encoding: chunked\r\nX-B: 2').headers).to.deep.equal(['X-B', '2']);
    expect(() => parseCgiHead('Bad Name: x')).to.throw(/invalid header name/);
    expect(() => parseCgiHead('Status: 99 Low')).to.throw(/invalid Status/);
    expect(() => parseCgiHead('Content-Length: 1\r\nContent-Length: 2')).to.throw(/invalid Content-Length/);
  });

  it('finds the end of the head across pieces, and refuses a head over 64 KiB', () => {
    const r = new CgiHeadReader();
    expect(r.feed(Buffer.from('Content-Type: a\r'))).to.equal(undefined);
    const got = r.feed(Buffer.from('\n\r\nbody'));
    expect(got.head.headers).to.deep.equal(['Content-Type', 'a']);
    expect(got.rest.toString()).to.equal('body');
    expect(() => new CgiHeadReader().feed(Buffer.from(`X-Big: ${'x'.repeat(70 * 1024)}`))).to.throw(/larger than/);
  });
});
