// Plain HTTP requests for specs that must see the bytes as sent (fetch
// decodes Content-Encoding and normalises paths), and raw request lines.
import http from 'node:http';
import net from 'node:net';

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

export function httpGet(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Sends `head` as is (one request, Connection: close) and returns the whole answer as Latin-1 text. */
export function rawRequest(port: number, head: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('end', () => resolve(out));
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(out) : reject(e)));
    sock.write(head);
    const timer = setTimeout(() => sock.destroy(), 5000);
    timer.unref();
    sock.on('close', () => { clearTimeout(timer); resolve(out); });
  });
}

/**
 * Writes `pieces` on one connection, `gapMs` apart (so that a server reads
 * them apart), and returns everything answered as Latin-1 text once the
 * server closes the connection or `waitMs` passed (kept-alive connections).
 */
export function exchangeRaw(port: number, pieces: (string | Buffer)[], opts: { gapMs?: number; waitMs?: number } = {}): Promise<string> {
  const gapMs = opts.gapMs ?? 20;
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    const timer = setTimeout(() => { sock.destroy(); resolve(out); }, opts.waitMs ?? 1500);
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('close', () => { clearTimeout(timer); resolve(out); });
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    let i = 0;
    const next = (): void => {
      if (i >= pieces.length) return;
      const piece = pieces[i++]!;
      sock.write(typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece);
      setTimeout(next, gapMs);
    };
    next();
  });
}
