// Property-based fuzzing of the SCGI head parser (core/server/scgi/parser.ts):
// any bytes, delivered in any pieces, either parse or fail with a
// PassengerError of one of its two documented codes (never another error,
// never a hang); and every well-formed head, however split, parses back to
// exactly the names, values and body bytes it was made from.
import { expect } from 'chai';
import fc from 'fast-check';
import { ScgiHeadParser, defaultScgiLimits, type ScgiHead } from '../../core/server/scgi/parser.ts';
import { PassengerError } from '../../core/errors/passenger-error.ts';
import { fuzzParameters, splitAt } from './fuzz-settings.ts';

const DOCUMENTED = ['PSG_ERR_SCGI_MALFORMED', 'PSG_ERR_SCGI_TOO_LARGE'];

/** Feeds every piece; returns the head, undefined if it wants more, or the error thrown. */
function parse(pieces: Buffer[], limits = defaultScgiLimits): ScgiHead | undefined | PassengerError {
  const parser = new ScgiHeadParser(limits);
  try {
    for (const piece of pieces) {
      const head = parser.push(piece);
      if (head) return head;
    }
    return undefined;
  } catch (e) {
    if (e instanceof PassengerError && DOCUMENTED.includes(e.code)) return e;
    throw e;
  }
}

function encode(params: [string, string][], body: Buffer): Buffer {
  const block = Buffer.concat(params.flatMap(([n, v]) => [Buffer.from(n, 'latin1'), Buffer.of(0), Buffer.from(v, 'latin1'), Buffer.of(0)]));
  return Buffer.concat([Buffer.from(`${block.length}:`), block, Buffer.from(','), body]);
}

/** Latin-1 text without NUL, CR or LF: what a header name or value may hold. */
const text = (minLength: number) => fc.string({ unit: fc.integer({ min: 1, max: 255 }).filter((c) => c !== 10 && c !== 13).map((c) => String.fromCharCode(c)), minLength, maxLength: 40 });

const wellFormed = fc.record({
  contentLength: fc.nat({ max: 10_000_000 }),
  others: fc.uniqueArray(fc.tuple(text(1).filter((n) => n !== 'CONTENT_LENGTH'), text(0)), { selector: ([n]) => n, maxLength: 20 }),
  body: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
});

describe('fuzz: SCGI head parser', function () {
  this.timeout(15000);

  it('round-trips every well-formed head, however the bytes are split', () => {
    fc.assert(fc.property(wellFormed, ({ contentLength, others, body, cuts }) => {
      const params: [string, string][] = [['CONTENT_LENGTH', String(contentLength)], ...others];
      const bytes = encode(params, body);
      const head = parse(splitAt(bytes, cuts));
      if (!head || head instanceof PassengerError) throw new Error(`a well-formed head was not parsed: ${String(head)}`);
      expect([...head.params]).to.deep.equal(params);
      expect(head.contentLength).to.equal(contentLength);
      // The body's first bytes are whatever followed the comma in the piece that completed the head.
      expect(body.subarray(0, head.rest.length).equals(head.rest)).to.equal(true);
    }), fuzzParameters(400));
  });

  it('answers any bytes with a head, "need more" or a documented PassengerError, never another error', () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      // Mostly-valid input, damaged: the interesting cases are near the grammar.
      fc.tuple(wellFormed, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([w, at, byte]) => {
        const bytes = encode([['CONTENT_LENGTH', String(w.contentLength)], ...w.others], w.body);
        bytes[at % bytes.length] = byte;
        return bytes;
      }),
    );
    fc.assert(fc.property(anyBytes, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
      const result = parse(splitAt(bytes, cuts));
      if (result instanceof PassengerError) {
        expect(result.message, 'the message stays one line').to.not.match(/[\r\n]/);
      } else if (result) {
        expect(result.params.keys().next().value).to.equal('CONTENT_LENGTH');
        for (const [n, v] of result.params) expect(`${n}${v}`).to.not.match(/[\r\n\0]/);
      }
    }), fuzzParameters(3000));
  });

  it('refuses a head larger than the limit as soon as its length prefix says so', () => {
    const limits = { maxHeaderBytes: 64, maxHeaders: 4 };
    fc.assert(fc.property(fc.integer({ min: 65, max: 10 ** 9 }), (length) => {
      const result = parse([Buffer.from(`${length}:`)], limits);
      expect(result).to.be.instanceOf(PassengerError);
      expect((result as PassengerError).code).to.equal('PSG_ERR_SCGI_TOO_LARGE');
    }), fuzzParameters(300));
  });
});
