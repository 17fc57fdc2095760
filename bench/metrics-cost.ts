// `node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 --import tsx bench/metrics-cost.ts`:
// what the metrics cost one request in the core, without the noise of a
// whole HTTP benchmark on a shared machine: the request-path calls (observe,
// writeHead, write, end, settle) with nothing tapped, with the metrics
// collector tapped, and, for comparison, prom-client's own labelled
// counter and histogram updates (the design this replaced). Prints ns and
// heap bytes per request (bytes: heap growth over a run too short for a GC, the most of three).
import { Counter, Histogram, Registry } from 'prom-client';
import { Kernel } from '../core/kernel.ts';
import { createLogger } from '../core/log/logger.ts';
import { Pool } from '../core/pool/pool.ts';
import { MetricsCollector } from '../core/metrics/collector.ts';
import { observe, settle, noteCheckout } from '../core/server/observed-response.ts';
import type { FrontRequest, FrontResponse } from '../core/server/front.ts';
import type { AppSpec } from '../core/config/app-spec.ts';
import type { Spawner } from '../core/spawn/spawner.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 --import tsx bench/metrics-cost.ts');

const sink: FrontResponse = {
  headersSent: false, clientGone: false, writeHead() {}, write: () => true, holdsData: () => false, end() {}, abort() {}, onDrain() {}, onClose() {},
};
const req: FrontRequest = {
  method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Host', 'x'], remoteAddress: '127.0.0.1', remotePort: 1,
  serverName: 'x', serverPort: 80, https: false, trustedProxy: false, body: null, contentLength: undefined,
};
const app: AppSpec = { appRoot: '/srv/app', name: 'app', appType: 'node', startupFile: '/srv/app/app.js', detectReason: '', options: { trace_context: false } as unknown as AppSpec['options'], sources: {} };
const chunk = Buffer.from('hello world\n');

function requestPath(kernel: Kernel): void {
  const res = observe(kernel.hooks, app, req, sink);
  noteCheckout(res);
  res.writeHead(200, 'OK', []);
  res.write(chunk);
  res.end();
  settle(res);
}

function measure(name: string, fn: () => void): { name: string; ns: number; bytes: number } {
  for (let i = 0; i < 200_000; i++) fn(); // warm up: optimized code
  const n = 2_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t0) / n;
  // The most of three runs: a run that met a scavenge reads low, never high.
  const m = 100_000;
  let bytes = Infinity;
  for (let run = 0; run < 3; run++) {
    gc!();
    const h0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < m; i++) fn();
    const grown = (process.memoryUsage().heapUsed - h0) / m;
    bytes = bytes === Infinity ? grown : Math.max(bytes, grown);
  }
  if (bytes === Infinity) bytes = 0;
  return { name, ns: Math.round(ns * 10) / 10, bytes: Math.max(0, Math.round(bytes)) };
}

const spawner: Spawner = { spawn: () => Promise.reject(new Error('no spawns')), close: async () => {} };
const off = new Kernel(createLogger('error'));
const on = new Kernel(createLogger('error'));
const pool = new Pool(on, spawner, { maxPoolSize: 1, poolIdleTime: 0, processGraceMs: 100 }, () => Promise.reject(new Error('no refresh')));
new MetricsCollector(on, pool);

const registry = new Registry();
const counter = new Counter({ name: 'c_total', help: 'c', labelNames: ['app', 'status_class'], registers: [registry] });
const histogram = new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['app'], registers: [registry] });
const counterChild = counter.labels('app', '2xx');
const histogramChild = histogram.labels('app');

const results = [
  measure('request path, nothing tapped (metrics_address unset)', () => requestPath(off)),
  measure('request path, metrics collector tapped', () => requestPath(on)),
  measure('prom-client: cached counter child inc() + histogram child observe()', () => { counterChild.inc(); histogramChild.observe(0.003); }),
];
for (const r of results) process.stdout.write(`${r.name.padEnd(72)} ${String(r.ns).padStart(7)} ns  ${String(r.bytes).padStart(5)} B/request\n`);
await pool.shutdown();
