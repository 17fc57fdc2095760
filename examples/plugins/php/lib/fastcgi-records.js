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

/** BEGIN_REQUEST in the responder role; `keepConn` asks the server to keep the connection after the request. */
export function beginRequest(requestId, keepConn) {
  const body = Buffer.alloc(8);
  body.writeUInt16BE(RESPONDER, 0);
  body[2] = keepConn ? 1 : 0;
  return Buffer.concat([recordHeader(BEGIN_REQUEST, requestId, 8), body]);
}

/** One name or value length: one byte below 128, else four with the high bit set. */
function lengthBytes(n) {
  if (n < 128) return Buffer.from([n]);
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE((n | 0x80000000) >>> 0, 0);
  return b;
}

/**
 * PARAMS records for these name-value pairs (alternating), then the empty
 * PARAMS record that ends them. Values are written as Latin-1, byte for byte
 * as the client sent them (node decodes headers as Latin-1).
 */
export function paramsRecords(requestId, pairs) {
  /** @type {Buffer[]} */
  const parts = [];
  for (let i = 0; i < pairs.length; i += 2) {
    const name = Buffer.from(pairs[i], 'latin1');
    const value = Buffer.from(pairs[i + 1], 'latin1');
    parts.push(lengthBytes(name.length), lengthBytes(value.length), name, value);
  }
  const stream = Buffer.concat(parts);
  /** @type {Buffer[]} */
  const out = [];
  // A pair may span records: the name-value stream is cut anywhere.
  for (let at = 0; at < stream.length; at += MAX_CONTENT) {
    const piece = stream.subarray(at, Math.min(at + MAX_CONTENT, stream.length));
    out.push(recordHeader(PARAMS, requestId, piece.length), piece);
  }
  out.push(recordHeader(PARAMS, requestId, 0));
  return Buffer.concat(out);
}

/**
 * Reads records from a byte stream cut anywhere. `onRecord(type, requestId,
 * content)` gets each record's content as a view valid during the call.
 */
export class RecordReader {
  /** @type {(type: number, requestId: number, content: Buffer) => void} */
  #onRecord;
  /** Bytes of a record not complete yet. */
  #pending = Buffer.alloc(0);

  /** @param {(type: number, requestId: number, content: Buffer) => void} onRecord */
  constructor(onRecord) {
    this.#onRecord = onRecord;
  }

  /** Whether part of a record is waiting for the rest. */
  get partial() { return this.#pending.length > 0; }

  /** @param {Buffer} data */
  feed(data) {
    let buf = this.#pending.length > 0 ? Buffer.concat([this.#pending, data]) : data;
    let pos = 0;
    while (buf.length - pos >= 8) {
      if (buf[pos] !== VERSION) throw new Error(`FastCGI record of version ${buf[pos]}, not ${VERSION}`);
      const contentLength = buf.readUInt16BE(pos + 4);
      const end = pos + 8 + contentLength + buf[pos + 6];
      if (buf.length < end) break;
      this.#onRecord(buf[pos + 1], buf.readUInt16BE(pos + 2), buf.subarray(pos + 8, pos + 8 + contentLength));
      pos = end;
    }
    // What is left is copied: `data` may be reused by its producer.
    this.#pending = pos === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
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
