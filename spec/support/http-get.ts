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
