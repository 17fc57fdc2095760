// Single requests outside the load generator: waiting for the first 200
// (cold start) and timing one request.
import http from 'node:http';
import https from 'node:https';

export function get(url: string, timeoutMs = 30_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // The bench's TLS rows use a certificate made for the run: nothing to verify it against.
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, { agent: false, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Polls until GET `url` answers 200; resolves with the performance.now() of that answer. */
export async function waitFor200(url: string, deadlineMs: number, stillRunning: () => boolean): Promise<number> {
  const until = performance.now() + deadlineMs;
  let serverErrors = 0;
  for (;;) {
    try {
      const r = await get(url, 30_000);
      if (r.status === 200) return performance.now();
      // Servers hold requests while the app starts: repeated 5xx means it cannot start.
      if (r.status >= 500 && ++serverErrors >= 3) throw new Error(`GET ${url} answered ${r.status}: ${r.body.slice(0, 500)}`);
    } catch (e) {
      if (serverErrors >= 3) throw e;
      // not listening yet
    }
    if (!stillRunning()) throw new Error('the server exited before answering 200');
    if (performance.now() > until) throw new Error(`no 200 from ${url} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
