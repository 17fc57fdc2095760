// What a client gets when node's HTTP parser (llhttp) refuses its request,
// and the line the log gets: the status nginx would answer (400, 431 for
// huge headers, 501 for a transfer coding other than chunked, 505 for
// HTTP/2+ in a text request line), and the header at fault where the
// parser's position shows it.
import http from 'node:http';
import { HTTP_TOKEN } from '../../util/http-token.ts';

export interface ParseFailure {
  status: number;
  reason: string;
  /** Safe to show: parser reasons are fixed strings, names are quoted and cut short. */
  message: string;
}

export interface ParserError {
  code?: string;
  reason?: string;
  message: string;
  /** The bytes being parsed when the error happened (node sets it). */
  rawPacket?: Buffer;
  /** Where in rawPacket the parser stopped. */
  bytesParsed?: number;
}

const TE_LINE = /^transfer-encoding[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$/gim;
const CONTENT_LENGTH_LINE = /^content-length[ \t]*:/im;
const VERSION_LINE = /^[!-~]+ [!-~]+ HTTP\/([0-9])\.[0-9]\r?$/m;

/** A status line and a short text body, closing the connection: for sockets node has not wrapped in a response. */
export function rawResponse(status: number, reason: string, message: string): string {
  const body = `${status} ${reason}: ${message}\n`;
  return `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/** The header whose line holds the parser's position, if that line has a name before a colon. */
function headerAt(packet: Buffer | undefined, at: number | undefined): string | undefined {
  if (!packet || at === undefined || at <= 0 || at > packet.length) return undefined;
  const lineStart = packet.lastIndexOf(10, at - 1) + 1;
  if (lineStart === 0) return undefined; // the request line, or a line that began in an earlier packet
  const colon = packet.indexOf(58, lineStart);
  if (colon < 0 || colon > at || colon - lineStart > 64) return undefined;
  const name = packet.toString('latin1', lineStart, colon);
  return HTTP_TOKEN.test(name) ? name : undefined;
}

export function describeParseError(err: ParserError): ParseFailure {
  const what = err.reason ?? err.message;
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', message: `the request head is larger than ${http.maxHeaderSize} bytes` };
    case 'HPE_INVALID_TRANSFER_ENCODING': {
      // One Transfer-Encoding naming a coding other than chunked, and no Content-Length to conflict with: a coding we do not implement (nginx: 501).
      const text = err.rawPacket ? err.rawPacket.toString('latin1') : '';
      const lines = [...text.matchAll(TE_LINE)];
      const value = lines.length === 1 ? lines[0]![1]! : '';
      if (value !== '' && value.toLowerCase() !== 'chunked' && !CONTENT_LENGTH_LINE.test(text)) {
        return { status: 501, reason: 'Not Implemented', message: `Transfer-Encoding ${JSON.stringify(value.slice(0, 60))} is not implemented; only "chunked" is` };
      }
      return { status: 400, reason: 'Bad Request', message: `malformed HTTP request: ${what}` };
    }
    case 'HPE_INVALID_VERSION': {
      const m = err.rawPacket ? VERSION_LINE.exec(err.rawPacket.toString('latin1', 0, Math.min(err.rawPacket.length, 8192))) : null;
      if (m && Number(m[1]) >= 2) return { status: 505, reason: 'HTTP Version Not Supported', message: `HTTP/${m[1]} is not supported; send HTTP/1.1` };
      return { status: 400, reason: 'Bad Request', message: `malformed HTTP request: ${what}` };
    }
    default: {
      const header = headerAt(err.rawPacket, err.bytesParsed);
      return { status: 400, reason: 'Bad Request', message: `malformed HTTP request: ${what}${header ? ` (in header ${header})` : ''}` };
    }
  }
}
