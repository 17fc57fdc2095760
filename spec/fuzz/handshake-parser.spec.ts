// Property-based fuzzing of the spawn handshake parser
// (core/spawn/handshake-parser.ts): any sequence of lines either drives it or
// fails with a PassengerError PSG_ERR_SPAWN_PROTOCOL (never another error), and
// a well-formed handshake with app output interleaved yields exactly its
// sockets, properties and output lines.
import { expect } from 'chai';
import fc from 'fast-check';
import { GREETING, HandshakeParser, type HandshakeEvent } from '../../core/spawn/handshake-parser.ts';
import { PassengerError } from '../../core/errors/passenger-error.ts';
import { fuzzParameters } from './fuzz-settings.ts';

/** App output: any line that is not a control line. */
const outputLine = fc.string({ maxLength: 30 }).filter((l) => !l.startsWith('!>'));
const propKey = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz_-'), minLength: 1, maxLength: 10 }).filter((k) => k !== 'socket');
const propValue = fc.string({ maxLength: 20 });
const socket = fc.record({
  name: fc.constantFrom('main', 'http', 'a1'),
  address: fc.oneof(fc.constantFrom('unix:/tmp/x.sock', 'unix:/run/p/a b'), fc.nat({ max: 65535 }).map((p) => `tcp://127.0.0.1:${p}`)),
  protocol: fc.constantFrom('session', 'http_session'),
  concurrency: fc.nat({ max: 100 }),
  keepAlive: fc.boolean(),
});

function feedAll(lines: string[]): { events: HandshakeEvent[]; error?: PassengerError } {
  const parser = new HandshakeParser();
  const events: HandshakeEvent[] = [];
  try {
    for (const l of lines) events.push(parser.feed(l));
  } catch (e) {
    if (e instanceof PassengerError && e.code === 'PSG_ERR_SPAWN_PROTOCOL') return { events, error: e };
    throw e;
  }
  return { events };
}

describe('fuzz: spawn handshake parser', function () {
  this.timeout(15000);

  it('reads back the sockets, properties and output of every well-formed Ready handshake', () => {
    fc.assert(fc.property(
      fc.array(outputLine, { maxLength: 4 }), fc.array(outputLine, { maxLength: 4 }),
      fc.array(socket, { minLength: 1, maxLength: 3 }), fc.uniqueArray(fc.tuple(propKey, propValue), { selector: ([k]) => k, maxLength: 5 }),
      (before, during, sockets, props) => {
        const socketLines = sockets.map((s) => `!> socket: ${s.name};${s.address};${s.protocol};${s.concurrency}${s.keepAlive ? ';keepalive' : ''}`);
        const lines = [...before, `!> ${GREETING}`, ...during, '!> Ready', ...socketLines, ...props.map(([k, v]) => `!> ${k}: ${v}`), '!>'];
        const { events, error } = feedAll(lines);
        expect(error?.message).to.equal(undefined);
        expect(events.filter((e) => e.type === 'output').map((e) => (e as { line: string }).line)).to.deep.equal([...before, ...during]);
        const ready = events.at(-1)!;
        if (ready.type !== 'ready') throw new Error(`last event is ${ready.type}, not ready`);
        expect(ready.sockets).to.deep.equal(sockets.map((s) => ({ name: s.name, address: s.address, protocol: s.protocol, concurrency: s.concurrency, ...(s.keepAlive ? { keepAlive: true } : {}) })));
        expect(ready.properties).to.deep.equal(Object.fromEntries(props));
      }), fuzzParameters(500));
  });

  it('reads back an Error block and passes every line after it as detail', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.tuple(propKey, propValue), { selector: ([k]) => k, maxLength: 5 }), fc.array(fc.string({ maxLength: 30 }), { maxLength: 6 }), (props, detail) => {
      const { events, error } = feedAll([`!> ${GREETING}`, '!> Error', ...props.map(([k, v]) => `!> ${k}: ${v}`), '!>', ...detail]);
      expect(error?.message).to.equal(undefined);
      const at = events.findIndex((e) => e.type === 'error');
      expect((events[at] as { properties: Record<string, string> }).properties).to.deep.equal(Object.fromEntries(props));
      expect(events.slice(at + 1)).to.deep.equal(detail.map((line) => ({ type: 'errorDetail', line })));
    }), fuzzParameters(300));
  });

  it('keeps a property named __proto__ (found by this fuzzer: assigning it dropped it)', () => {
    const { events } = feedAll([`!> ${GREETING}`, '!> Ready', '!> socket: main;unix:/x;session;1', '!> __proto__: value', '!> constructor: c', '!>']);
    const ready = events.at(-1) as { properties: Record<string, string> };
    expect(Object.entries(ready.properties)).to.deep.equal([['__proto__', 'value'], ['constructor', 'c']]);
    expect(Object.getPrototypeOf(ready.properties)).to.equal(Object.prototype);
  });

  it('answers any lines with events or PSG_ERR_SPAWN_PROTOCOL, never another error', () => {
    const nearGrammar = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(`!> ${GREETING}`, '!> Ready', '!> Error', '!> ready', '!> Redy', '!>', '!> ', '!>  ', '!> socket: ', '!> socket: main;unix:/x;session;1',
        '!> socket: main;tcp://h:1;session;-1', '!> socket: ;;;', '!> socket: a;b;c;d;e;f', '!> socket: main;tcp://[::1]:80;session;1.5', '!> k: v', '!> :', '!> k:v'),
      fc.string({ maxLength: 40 }).map((s) => `!> ${s}`),
      fc.string({ maxLength: 40 }).map((s) => `!> socket: ${s}`),
    );
    fc.assert(fc.property(fc.array(nearGrammar, { maxLength: 12 }), (lines) => {
      const { error } = feedAll(lines);
      if (error) expect(error.message).to.match(/^loader broke the handshake: |^socket (line|address) must be/);
    }), fuzzParameters(3000));
  });
});
