// `node --import tsx bench/access-log-cost.ts`: what one access log line costs
// the core, without the noise of a whole HTTP benchmark on a shared machine:
// the formatting functions alone (combined, json, the development line) on a
// typical request, with and without a query string to mask. Prints ns per line.
import { formatCombined, formatDev, formatJson } from '../core/log/access-format.ts';
import type { RequestEvent } from '../core/hooks.ts';
import type { AppSpec } from '../core/config/app-spec.ts';

function event(url: string): RequestEvent {
  return {
    app: { name: 'shop' } as AppSpec,
    request: {
      method: 'GET', url, httpVersion: '1.1', remoteAddress: '127.0.0.1', remotePort: 50000, serverName: 'localhost', serverPort: 3000,
      rawHeaders: ['Host', 'localhost:3000', 'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
        'Accept', 'text/html', 'Referer', 'https://shop.example/cart', 'Accept-Encoding', 'gzip, br', 'X-Request-Id', '9b2f3c4e-1a2b-4c3d-8e9f-0123456789ab'],
      https: false, trustedProxy: false, body: null, contentLength: undefined, requestId: '9b2f3c4e-1a2b-4c3d-8e9f-0123456789ab',
    },
    startedAt: 0, queueMs: 0.123, pid: 4242, status: 200, bytes: 5123, durationMs: 3.456, rejection: undefined, aborted: false,
  };
}

function measure(name: string, fn: () => string): void {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += fn().length; // warm up: optimized code
  const n = 1_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += fn().length;
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`${name.padEnd(34)} ${ns.toFixed(0).padStart(6)} ns/line${sink < 0 ? '' : ''}`);
}

const plain = event('/products/42');
const query = event('/search?q=shoes&page=2&access_token=abc123def456');
const now = Date.now();
measure('combined', () => formatCombined(plain, now));
measure('combined, query with a token', () => formatCombined(query, now));
measure('json', () => formatJson(plain, now));
measure('json, query with a token', () => formatJson(query, now));
measure('dev (terminal)', () => formatDev(plain));
