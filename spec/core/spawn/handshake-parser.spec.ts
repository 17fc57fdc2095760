// The loader handshake parser against good and malformed loader output.
import { expect } from 'chai';
import { HandshakeParser, type HandshakeEvent } from '../../../core/spawn/handshake-parser.ts';
import { PassengerError } from '../../../core/errors/passenger-error.ts';

function run(lines: string[]): HandshakeEvent[] {
  const p = new HandshakeParser();
  return lines.map((l) => p.feed(l));
}

function failureOf(lines: string[]): PassengerError {
  try { run(lines); } catch (e) { if (e instanceof PassengerError) return e; throw e; }
  throw new Error('expected the parser to throw');
}

describe('HandshakeParser', () => {
  it('reads a ready loader with its socket', () => {
    const ev = run(['!> I have control 1.0', 'loading...', '!> Ready', '!> socket: main;unix:/tmp/x.sock;session;4', '!> pid: 12', '!> ']);
    expect(ev[0]).to.deep.equal({ type: 'greeted' });
    expect(ev[1]).to.deep.equal({ type: 'output', line: 'loading...' });
    expect(ev[5]).to.deep.equal({ type: 'ready', properties: { pid: '12' }, sockets: [{ name: 'main', address: 'unix:/tmp/x.sock', protocol: 'session', concurrency: 4 }] });
  });

  it('reads the keepalive flag of a socket line and ignores unknown flags', () => {
    const ev = run(['!> I have control 1.0', '!> Ready', '!> socket: main;unix:/tmp/x.sock;session;2;future,keepalive', '!> ']);
    expect(ev[3]).to.deep.equal({ type: 'ready', properties: {}, sockets: [{ name: 'main', address: 'unix:/tmp/x.sock', protocol: 'session', concurrency: 2, keepAlive: true }] });
    const plain = run(['!> I have control 1.0', '!> Ready', '!> socket: main;unix:/tmp/x.sock;session;2;future', '!> ']);
    expect(plain[3]).to.deep.include({ sockets: [{ name: 'main', address: 'unix:/tmp/x.sock', protocol: 'session', concurrency: 2 }] });
  });

  it('accepts a TCP address and unlimited concurrency', () => {
    const ev = run(['!> I have control 1.0', '!> Ready', '!> socket: main;tcp://127.0.0.1:4000;http_session;0', '!> ']);
    expect(ev[3]).to.deep.include({ type: 'ready' });
  });

  it('reads an error block and the detail lines after it', () => {
    const ev = run(['!> I have control 1.0', '!> Error', '!> error_class: LoadError', '!> summary: cannot load such file -- sinatra', '!> ', 'config.ru:1', '  backtrace']);
    expect(ev[4]).to.deep.equal({ type: 'error', properties: { error_class: 'LoadError', summary: 'cannot load such file -- sinatra' } });
    expect(ev[5]).to.deep.equal({ type: 'errorDetail', line: 'config.ru:1' });
    expect(ev[6]).to.deep.equal({ type: 'errorDetail', line: '  backtrace' });
  });

  it('treats lines without the marker as app output at any stage', () => {
    const ev = run(['hello', '!> I have control 1.0', '!>not a control line', '! > neither']);
    expect(ev.map((e) => e.type)).to.deep.equal(['output', 'greeted', 'output', 'output']);
  });

  const malformed: [string, string[], RegExp][] = [
    ['a wrong greeting', ['!> I have control 2.0'], /expected "!> I have control 1\.0" first, got "!> I have control 2\.0"/],
    ['a misspelled status, with a suggestion', ['!> I have control 1.0', '!> Redy'], /unknown control line "!> Redy" \(did you mean "!> Ready"\?\)/],
    ['an unknown control line', ['!> I have control 1.0', '!> Banana'], /unknown control line "!> Banana"$/],
    ['a ready block without a socket', ['!> I have control 1.0', '!> Ready', '!> '], /ended without a "socket:" line/],
    ['a socket line with missing fields', ['!> I have control 1.0', '!> Ready', '!> socket: main;unix:/x'], /socket line must be "name;address;protocol;concurrency\[;flags\]", got "main;unix:\/x"/],
    ['a relative unix path', ['!> I have control 1.0', '!> Ready', '!> socket: main;unix:x.sock;session;1'], /socket address must be "unix:\/absolute\/path"/],
    ['a negative concurrency', ['!> I have control 1.0', '!> Ready', '!> socket: main;unix:/x;session;-1'], /socket line must be/],
    ['a block line without key: value', ['!> I have control 1.0', '!> Ready', '!> garbage'], /expected "!> key: value" inside the block, got "!> garbage"/],
    ['a control line after the handshake', ['!> I have control 1.0', '!> Ready', '!> socket: main;unix:/x;session;1', '!> ', '!> Ready'], /after the handshake ended/],
  ];
  for (const [what, lines, message] of malformed) {
    it(`rejects ${what}`, () => {
      const e = failureOf(lines);
      expect(e.code).to.equal('PSG_ERR_SPAWN_PROTOCOL');
      expect(e.message).to.match(message);
    });
  }
});
