// The loader side of the spawn handshake (docs/protocols.md section 1), as a
// pure state machine over stdout lines: no I/O, so specs drive it with tables.
import { editDistance } from '../util/edit-distance.ts';
import { PassengerError } from '../errors/passenger-error.ts';
import { parseSocketLine, type ProcessSocket } from './socket-address.ts';

export const GREETING = 'I have control 1.0';
export const REPLY = 'You have control 1.0';

export type HandshakeEvent =
  | { type: 'output'; line: string }
  | { type: 'control' }
  | { type: 'greeted' }
  | { type: 'ready'; sockets: ProcessSocket[]; properties: Record<string, string> }
  | { type: 'error'; properties: Record<string, string> }
  | { type: 'errorDetail'; line: string };

type State = 'greeting' | 'loading' | 'readyBlock' | 'errorBlock' | 'errorDetail' | 'done';

const CONTROL = '!> ';
const KNOWN_STATUS = ['Ready', 'Error'];

export class HandshakeParser {
  #state: State = 'greeting';
  #props: Record<string, string> = {};
  #sockets: ProcessSocket[] = [];

  get state(): State { return this.#state; }

  /** Feeds one stdout line (without its newline); throws PSG_ERR_SPAWN_PROTOCOL on a broken handshake. */
  feed(line: string): HandshakeEvent {
    if (this.#state === 'errorDetail') return { type: 'errorDetail', line };
    if (!line.startsWith(CONTROL) && line !== '!>') return { type: 'output', line };
    const body = line === '!>' ? '' : line.slice(CONTROL.length);
    switch (this.#state) {
      case 'greeting':
        if (body !== GREETING) throw protocolError(`expected "!> ${GREETING}" first, got "${line}"`);
        this.#state = 'loading';
        return { type: 'greeted' };
      case 'loading':
        if (body === 'Ready') { this.#state = 'readyBlock'; return { type: 'control' }; }
        if (body === 'Error') { this.#state = 'errorBlock'; return { type: 'control' }; }
        throw protocolError(`unknown control line "${line}"${suggest(body)}`);
      case 'readyBlock':
      case 'errorBlock':
        return this.#feedBlock(body, line);
      default:
        throw protocolError(`control line after the handshake ended: "${line}"`);
    }
  }

  #feedBlock(body: string, line: string): HandshakeEvent {
    if (body === '') {
      if (this.#state === 'errorBlock') {
        this.#state = 'errorDetail';
        return { type: 'error', properties: this.#props };
      }
      this.#state = 'done';
      if (this.#sockets.length === 0) throw protocolError('"!> Ready" block ended without a "socket:" line');
      return { type: 'ready', sockets: this.#sockets, properties: this.#props };
    }
    const sep = body.indexOf(': ');
    if (sep <= 0) throw protocolError(`expected "!> key: value" inside the block, got "${line}"`);
    const key = body.slice(0, sep);
    const value = body.slice(sep + 2);
    if (key === 'socket' && this.#state === 'readyBlock') this.#sockets.push(parseSocketLine(value));
    // Defined, not assigned: `this.#props['__proto__'] = v` would drop the property (found by spec/fuzz).
    else Object.defineProperty(this.#props, key, { value, enumerable: true, writable: true, configurable: true });
    return { type: 'control' };
  }
}

function protocolError(msg: string): PassengerError {
  return new PassengerError('PSG_ERR_SPAWN_PROTOCOL', `loader broke the handshake: ${msg}`);
}

function suggest(body: string): string {
  const head = body.split(/\s/)[0] ?? '';
  const near = KNOWN_STATUS.find((k) => editDistance(k.toLowerCase(), head.toLowerCase()) <= 2);
  return near ? ` (did you mean "!> ${near}"?)` : '';
}
