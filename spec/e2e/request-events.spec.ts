// The request and spawn hooks, seen by a third-party plugin from the app
// directory (as docs/plugins.md describes), and W3C trace context: a
// traceparent passes to the app unchanged, and with trace_context on a
// request without one gets one, whose trace id the request carries.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

const APP_JS = `
const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/headers') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
    return;
  }
  res.statusCode = 404;
  res.end('not here');
}).listen(3000);
`;

// Writes every event it sees, one JSON line each, next to itself.
const PLUGIN = `
import { appendFileSync } from 'node:fs';
const file = new URL('./events.jsonl', import.meta.url);
const log = (kind, data) => appendFileSync(file, JSON.stringify({ kind, ...data }) + '\\n');
export default function observer() {
  return {
    name: 'observer',
    apiVersion: 2,
    apply(kernel) {
      const h = kernel.hooks;
      h.requestStarted.tap('observer', (e) => log('requestStarted', { url: e.request.url, status: e.status, durationMs: e.durationMs }));
      h.requestFinished.tap('observer', (e) => log('requestFinished', {
        url: e.request.url, app: e.app.name, status: e.status, bytes: e.bytes, durationMs: e.durationMs, queueMs: e.queueMs,
        rejection: e.rejection ?? null, aborted: e.aborted, traceId: e.request.traceId ?? null,
      }));
      h.spawnStarted.tap('observer', (s) => log('spawnStarted', s));
      h.processSpawned.tap('observer', (p) => log('processSpawned', p));
    },
  };
}
`;

interface Event { kind: string; [k: string]: unknown }

const VALID = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACEPARENT = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/;

describe('request events and trace context', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let dir = '';
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
    removeApps();
  });

  async function start(args: string[] = []): Promise<void> {
    dir = makeApp({ 'app.js': APP_JS, 'observer.mjs': PLUGIN, 'Passengerfile.json': JSON.stringify({ plugins: ['./observer.mjs'] }) });
    p = await startPassenger(dir, { args: ['--app-name', 'echo', ...args] });
  }

  const readEvents = (): Event[] => existsSync(join(dir, 'events.jsonl'))
    ? readFileSync(join(dir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Event)
    : [];

  /** The events so far, once `finished` requests have finished: a client may read the last byte just before the core notes the end. */
  async function events(finished: number): Promise<Event[]> {
    for (const until = Date.now() + 5000; ;) {
      const seen = readEvents();
      if (seen.filter((e) => e.kind === 'requestFinished').length >= finished || Date.now() > until) return seen;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function headersSeen(headers: Record<string, string> = {}): Promise<Record<string, string>> {
    const r = await fetch(`${p!.url}/headers`, { headers });
    expect(r.status).to.equal(200);
    return await r.json() as Record<string, string>;
  }

  it('tells a plugin about spawns, and each request as it starts and finishes, with status, bytes and timings', async () => {
    await start();
    const body = await (await fetch(`${p!.url}/headers`)).text();
    const missing = await fetch(`${p!.url}/elsewhere`);
    expect(missing.status).to.equal(404);
    await missing.text();
    const seen = await events(2);
    const spawnStarted = seen.findIndex((e) => e.kind === 'spawnStarted');
    const spawned = seen.findIndex((e) => e.kind === 'processSpawned');
    expect(spawnStarted).to.be.at.least(0);
    expect(spawned).to.be.above(spawnStarted);
    expect(seen[spawnStarted]).to.deep.include({ appRoot: dir, appType: 'node', method: 'direct' });
    expect(seen[spawned]).to.deep.include({ appRoot: dir, appType: 'node', spawnMethod: 'direct' });
    expect(seen[spawned]!.spawnDurationMs).to.be.a('number').and.above(0);
    const requests = seen.filter((e) => e.kind.startsWith('request'));
    expect(requests.map((e) => `${e.kind} ${e.url}`)).to.deep.equal([
      'requestStarted /headers', 'requestFinished /headers', 'requestStarted /elsewhere', 'requestFinished /elsewhere',
    ]);
    expect(requests[0]).to.deep.include({ status: 0, durationMs: -1 });
    const finished = requests[1]!;
    expect(finished).to.deep.include({ app: 'echo', status: 200, bytes: Buffer.byteLength(body), rejection: null, aborted: false, traceId: null });
    expect(finished.durationMs).to.be.a('number').and.above(0);
    expect(finished.queueMs).to.be.a('number').and.at.least(0).and.at.most(finished.durationMs as number);
    expect(requests[3]).to.deep.include({ status: 404, bytes: 8 });
  });

  it('passes a traceparent to the app unchanged and adds none when trace_context is off', async () => {
    await start();
    expect((await headersSeen({ traceparent: VALID, tracestate: 'vendor=x' }))).to.deep.include({ traceparent: VALID, tracestate: 'vendor=x' });
    expect(await headersSeen()).to.not.have.property('traceparent');
    expect((await events(2)).filter((e) => e.kind === 'requestFinished').map((e) => e.traceId)).to.deep.equal([null, null]);
  });

  it('with trace_context on: creates a traceparent when absent, keeps a valid one, replaces one that does not parse', async () => {
    await start(['--trace-context']);
    const created = (await headersSeen()).traceparent!;
    expect(created).to.match(TRACEPARENT);
    expect(await headersSeen({ traceparent: VALID })).to.deep.include({ traceparent: VALID });
    const replaced = (await headersSeen({ traceparent: '00-nonsense' })).traceparent!;
    expect(replaced).to.match(TRACEPARENT);
    expect(replaced).to.not.equal(created);
    // The request carries the trace id, for the access log (here: a plugin's event).
    expect((await events(3)).filter((e) => e.kind === 'requestFinished').map((e) => e.traceId)).to.deep.equal([
      TRACEPARENT.exec(created)![1], '4bf92f3577b34da6a3ce929d0e0e4736', TRACEPARENT.exec(replaced)![1],
    ]);
  });
});
