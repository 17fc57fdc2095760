// @ts-check
// FastCGI 1.0 records, the client's side: what the core writes to php-fpm
// (BEGIN_REQUEST, PARAMS, STDIN) and a reader for what comes back (STDOUT,
// STDERR, END_REQUEST). Every record is an 8-byte header (version, type,
// request id, content length, padding length, reserved) and its content.

export const VERSION = 1;
export const BEGIN_REQUEST = 1;
export const ABORT_REQUEST = 2;
export const END_REQUEST = 3;
export const PARAMS = 4;
export const STDIN = 5;
export const STDOUT = 6;
export const STDERR = 7;
const RESPONDER = 1;
/** The most content one record carries (its length field is 16 bits). */
export const MAX_CONTENT = 0xffff;
/** END_REQUEST's protocol statuses, for messages. */
const PROTOCOL_STATUS = ['request complete', 'cannot multiplex connections', 'overloaded', 'unknown role'];

/** A record's header. */
export function recordHeader(type, requestId, contentLength) {
  const h = Buffer.allocUnsafe(8);
  h[0] = VERSION;
  h[1] = type;
  h.writeUInt16BE(requestId, 2);
  h.writeUInt16BE(contentLength, 4);
  h[6] = 0; // no padding: it is optional, and the content is never copied to align it
  h[7] = 0;
  return h;
}

/** BEGIN_REQUEST in the responder role, as Latin-1 characters (written with the PARAMS records in one string); `keepConn` asks the server to keep the connection after the request. */
export function beginRequestChars(requestId, keepConn) {
  return headerChars(BEGIN_REQUEST, requestId, 8) + String.fromCharCode(RESPONDER >>> 8, RESPONDER & 0xff, keepConn ? 1 : 0, 0, 0, 0, 0, 0);
}

/** One name or value length as Latin-1 characters: one below 128, else four with the high bit set. */
function lengthChars(n) {
  if (n < 128) return String.fromCharCode(n);
  return String.fromCharCode(((n >>> 24) & 0x7f) | 0x80, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** A record header as Latin-1 characters. */
export function headerChars(type, requestId, contentLength) {
  return String.fromCharCode(VERSION, type, requestId >>> 8, requestId & 0xff, contentLength >>> 8, contentLength & 0xff, 0, 0);
}

/**
 * PARAMS records for these name-value pairs (alternating), then the empty
 * PARAMS record that ends them. Values are written as Latin-1, byte for byte
 * as the client sent them (node decodes headers as Latin-1). The name-value
 * stream is built as one Latin-1 string and encoded once: a buffer per name,
 * value and length made this a sixth of the core's time per PHP request.
 */
export function paramsRecords(requestId, pairs) {
  return Buffer.from(paramsRecordsChars(requestId, pairs), 'latin1');
}

/** The same records as Latin-1 characters, to be written with other records in one string. */
export function paramsRecordsChars(requestId, pairs) {
  let stream = '';
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i];
    const value = pairs[i + 1];
    stream += lengthChars(name.length) + lengthChars(value.length) + name + value;
  }
  const end = headerChars(PARAMS, requestId, 0);
  if (stream.length <= MAX_CONTENT) return (stream.length > 0 ? headerChars(PARAMS, requestId, stream.length) + stream : '') + end;
  // A pair may span records: the name-value stream is cut anywhere.
  let out = '';
  for (let at = 0; at < stream.length; at += MAX_CONTENT) {
    const piece = stream.slice(at, at + MAX_CONTENT);
    out += headerChars(PARAMS, requestId, piece.length) + piece;
  }
  return out + end;
}

/**
 * Reads records from a byte stream cut anywhere. `onRecord(type, requestId,
 * content)` gets the content as a view valid during the call. STDOUT and
 * STDERR content is passed on in pieces as it arrives (a 64 KiB record need
 * not be copied together first); other records whole.
 */
export class RecordReader {
  /** @type {(type: number, requestId: number, content: Buffer) => void} */
  #onRecord;
  /** The current record's header, while incomplete. */
  #header = Buffer.alloc(8);
  #headerBytes = 0;
  #type = 0;
  #requestId = 0;
  /** Content bytes of the current record still to come, then its padding. */
  #contentLeft = 0;
  #paddingLeft = 0;
  /** A record other than STDOUT/STDERR, gathered until whole. */
  /** @type {Buffer[] | null} */
  #whole = null;

  /** @param {(type: number, requestId: number, content: Buffer) => void} onRecord */
  constructor(onRecord) {
    this.#onRecord = onRecord;
  }

  /** Between records: no header, content or padding of one is still to come. */
  get atRecordStart() {
    return this.#headerBytes === 0 && this.#contentLeft === 0 && this.#paddingLeft === 0 && this.#whole === null;
  }

  /** @param {Buffer} data */
  feed(data) {
    let pos = 0;
    while (pos < data.length) {
      if (this.#contentLeft > 0) {
        const n = Math.min(this.#contentLeft, data.length - pos);
        const piece = data.subarray(pos, pos + n);
        pos += n;
        this.#contentLeft -= n;
        if (this.#whole) {
          this.#whole.push(Buffer.from(piece));
          if (this.#contentLeft === 0) { const content = Buffer.concat(this.#whole); this.#whole = null; this.#onRecord(this.#type, this.#requestId, content); }
        } else this.#onRecord(this.#type, this.#requestId, piece);
        continue;
      }
      if (this.#paddingLeft > 0) {
        const n = Math.min(this.#paddingLeft, data.length - pos);
        pos += n;
        this.#paddingLeft -= n;
        continue;
      }
      const n = Math.min(8 - this.#headerBytes, data.length - pos);
      data.copy(this.#header, this.#headerBytes, pos, pos + n);
      pos += n;
      this.#headerBytes += n;
      if (this.#headerBytes < 8) break;
      this.#headerBytes = 0;
      const h = this.#header;
      if (h[0] !== VERSION) throw new Error(`FastCGI record of version ${h[0]}, not ${VERSION}`);
      this.#type = h[1];
      this.#requestId = h.readUInt16BE(2);
      this.#contentLeft = h.readUInt16BE(4);
      this.#paddingLeft = h[6];
      const streamed = this.#type === STDOUT || this.#type === STDERR;
      if (this.#contentLeft === 0) this.#onRecord(this.#type, this.#requestId, Buffer.alloc(0));
      else this.#whole = streamed ? null : [];
    }
  }
}

/** END_REQUEST's content: the script's exit status and the protocol status. */
export function parseEndRequest(content) {
  const protocolStatus = content.length >= 5 ? content[4] : 0;
  return {
    appStatus: content.length >= 4 ? content.readUInt32BE(0) : 0,
    protocolStatus,
    protocolStatusText: PROTOCOL_STATUS[protocolStatus] ?? `status ${protocolStatus}`,
  };
}
