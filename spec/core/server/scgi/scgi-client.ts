// A raw SCGI client for specs: sends a head (or any bytes) and collects the reply.
import net from 'node:net';

let secret: string | undefined;

/** The instance's PASSENGER_SCGI_SECRET, added to every head from now on (as the generated nginx config does). */
export function useScgiSecret(value: string | undefined): void {
  secret = value;
}

export function scgiHead(params: Record<string, string>, contentLength = 0): Buffer {
  const withSecret = secret !== undefined && !('PASSENGER_SCGI_SECRET' in params) ? { ...params, PASSENGER_SCGI_SECRET: secret } : params;
  const all: [string, string][] = [['CONTENT_LENGTH', String(contentLength)], ['SCGI', '1'], ...Object.entries(withSecret)];
  const block = all.map(([k, v]) => `${k}\0${v}\0`).join('');
  return Buffer.from(`${Buffer.byteLength(block)}:${block},`);
}

export interface ScgiReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  raw: Buffer;
}

export function parseReply(raw: Buffer): ScgiReply {
  const end = raw.indexOf('\r\n\r\n');
  const headText = raw.toString('latin1', 0, end < 0 ? raw.length : end);
  const headers: Record<string, string> = {};
  for (const line of headText.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(/^(\d{3})/.exec(headers.status ?? '')?.[1] ?? 0), headers, body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4), raw };
}

/** Connects (Unix path or {host, port}), writes the chunks, and resolves with everything read until the server closes. */
export function scgiExchange(where: string | { host: string; port: number }, chunks: Buffer[], opts: { endAfterWrite?: boolean } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = typeof where === 'string' ? net.connect(where) : net.connect(where.port, where.host);
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'ECONNRESET' || e.code === 'EPIPE') resolve(Buffer.concat(got)); else reject(e); });
    sock.on('close', () => resolve(Buffer.concat(got)));
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c);
      if (opts.endAfterWrite) sock.end();
    });
  });
}

export async function scgiRequest(where: string | { host: string; port: number }, params: Record<string, string>, body: Buffer = Buffer.alloc(0)): Promise<ScgiReply> {
  return parseReply(await scgiExchange(where, [scgiHead(params, body.length), body]));
}
