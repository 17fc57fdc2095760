// A pure, incremental parser for an SCGI request head: the netstring
// `<length>:<name>\0<value>\0...,` that precedes the body. No I/O: feed it
// bytes as they arrive; it answers "need more" or the parsed head plus the
// bytes that followed it. Every violation is a PassengerError naming the
// header or the byte position, so the log line says what was wrong.
import { PassengerError } from '../../errors/passenger-error.ts';

export interface ScgiLimits {
  /** Largest header block (the netstring's payload), in bytes. */
  maxHeaderBytes: number;
  /** Most name/value pairs. */
  maxHeaders: number;
}

export const defaultScgiLimits: ScgiLimits = { maxHeaderBytes: 128 * 1024, maxHeaders: 256 };

export interface ScgiHead {
  /** Names and values in arrival order; CONTENT_LENGTH is first. */
  params: Map<string, string>;
  contentLength: number;
  /** Bytes received after the netstring's comma: the start of the body. */
  rest: Buffer;
}

const LINE_BREAK = /[\r\n]/;
const COLON = 0x3a;
const COMMA = 0x2c;
const ZERO = 0x30;
const NINE = 0x39;

function malformed(message: string, details: Record<string, unknown> = {}): PassengerError {
  return new PassengerError('PSG_ERR_SCGI_MALFORMED', message, details);
}

function tooLarge(message: string, details: Record<string, unknown> = {}): PassengerError {
  return new PassengerError('PSG_ERR_SCGI_TOO_LARGE', message, details);
}

/** Splits the NUL-separated header block and checks its rules. */
export function parseHeaderBlock(block: Buffer, limits: ScgiLimits, offset: number): Map<string, string> {
  if (block.length === 0 || block[block.length - 1] !== 0) {
    throw malformed(`the header block does not end with a NUL byte (byte ${offset + block.length - 1})`, { position: offset + block.length - 1 });
  }
  const params = new Map<string, string>();
  let start = 0;
  let name: string | undefined;
  let nameAt = 0;
  while (start < block.length) {
    const end = block.indexOf(0, start);
    const text = block.toString('latin1', start, end);
    if (name === undefined) {
      if (text === '') throw malformed(`empty header name at byte ${offset + start}`, { position: offset + start });
      if (LINE_BREAK.test(text)) throw malformed(`header name with a CR or LF at byte ${offset + start}`, { position: offset + start });
      name = text;
      nameAt = offset + start;
    } else {
      if (params.has(name)) throw malformed(`duplicate header ${name} at byte ${nameAt}`, { header: name, position: nameAt });
      if (params.size === 0 && name !== 'CONTENT_LENGTH') {
        throw malformed(`the first header must be CONTENT_LENGTH, got ${name}`, { header: name, position: nameAt });
      }
      if (params.size >= limits.maxHeaders) throw tooLarge(`more than ${limits.maxHeaders} headers`, { limit: limits.maxHeaders });
      // Values end up in HTTP heads for http_session apps: a CR or LF would forge headers there.
      if (LINE_BREAK.test(text)) throw malformed(`header ${name} has a CR or LF in its value (byte ${offset + start})`, { header: name, position: offset + start });
      params.set(name, text);
      name = undefined;
    }
    start = end + 1;
  }
  if (name !== undefined) throw malformed(`header ${name} has no value (an odd number of strings)`, { header: name, position: nameAt });
  const length = params.get('CONTENT_LENGTH');
  if (length === undefined) throw malformed('the header block is empty: CONTENT_LENGTH is missing', { header: 'CONTENT_LENGTH' });
  if (!/^(0|[1-9][0-9]{0,14})$/.test(length)) {
    throw malformed(`CONTENT_LENGTH is not a decimal number: ${JSON.stringify(length.slice(0, 40))}`, { header: 'CONTENT_LENGTH' });
  }
  return params;
}

/** Feed bytes with push(); it returns the head once complete, or undefined while more is needed. */
export class ScgiHeadParser {
  readonly #limits: ScgiLimits;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Length of the header block, once the digits and colon are in. */
  #length: number | undefined;
  #digits = 0;
  #done = false;

  constructor(limits: ScgiLimits = defaultScgiLimits) {
    this.#limits = limits;
  }

  get done(): boolean { return this.#done; }

  push(chunk: Buffer): ScgiHead | undefined {
    if (this.#done) throw new Error('ScgiHeadParser: push after the head was complete');
    const start = this.#buffered;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#length === undefined) {
      // Scan only the new bytes for the length prefix.
      for (let i = 0; i < chunk.length; i++) {
        const pos = start + i;
        const b = chunk[i]!;
        if (b === COLON) {
          if (this.#digits === 0) throw malformed('the netstring has no length before the colon (byte 0)', { position: 0 });
          const all = Buffer.concat(this.#chunks);
          this.#chunks = [all];
          const digits = all.toString('latin1', 0, this.#digits);
          if (digits.length > 1 && digits.startsWith('0')) throw malformed('bad netstring length: leading zero (byte 0)', { position: 0 });
          this.#length = Number(digits);
          break;
        }
        if (b < ZERO || b > NINE) {
          throw malformed(`bad netstring length: byte ${pos} is ${JSON.stringify(String.fromCharCode(b))}, expected a digit or a colon`, { position: pos });
        }
        this.#digits++;
        // The number of digits bounds the length long before the value would overflow.
        if (this.#digits > String(this.#limits.maxHeaderBytes).length) {
          throw tooLarge(`the header block is larger than ${this.#limits.maxHeaderBytes} bytes`, { limit: this.#limits.maxHeaderBytes });
        }
      }
      if (this.#length === undefined) return undefined;
      if (this.#length > this.#limits.maxHeaderBytes) {
        throw tooLarge(`the header block is ${this.#length} bytes, larger than ${this.#limits.maxHeaderBytes}`, { limit: this.#limits.maxHeaderBytes });
      }
    }
    const blockStart = this.#digits + 1;
    const commaAt = blockStart + this.#length;
    if (this.#buffered <= commaAt) return undefined;
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = [];
    if (all[commaAt] !== COMMA) {
      throw malformed(`the netstring does not end with a comma at byte ${commaAt}`, { position: commaAt });
    }
    const params = parseHeaderBlock(all.subarray(blockStart, commaAt), this.#limits, blockStart);
    this.#done = true;
    return { params, contentLength: Number(params.get('CONTENT_LENGTH')), rest: all.subarray(commaAt + 1) };
  }
}
