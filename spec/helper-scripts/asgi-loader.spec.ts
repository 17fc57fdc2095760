// helper-scripts/asgi-loader.py driven directly: the spawn handshake
// (spec/support/loader-driver.ts), then HTTP/1.1 and WebSocket on the Unix
// socket it reports (http_session), with real Python processes.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { startLoader, type LoaderFailure, type LoaderRun } from '../support/loader-driver.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const loaderScript = join(repoRoot, 'helper-scripts/asgi-loader.py');
const appsDir = join(repoRoot, 'spec/fixtures/apps');
// pyenv's build (no third-party modules) and Debian's: the loader needs only the standard library.
const PYTHONS = process.env.ASGI_SPEC_PYTHONS?.split(',').filter(Boolean) ?? ['python3', '/usr/bin/python3'];

let logDir: string;
before(() => { logDir = mkdtempSync(join(tmpdir(), 'asgi-spec-')); });
after(() => rmSync(logDir, { recursive: true, force: true }));

function startApp(python: string, app: string, opts: { env?: Record<string, string>; startupFile?: string; extra?: Record<string, string> } = {}): Promise<LoaderRun> {
  const appRoot = join(appsDir, app);
  return startLoader({
    command: python,
    args: [loaderScript],
    appRoot,
    startupFile: join(appRoot, opts.startupFile ?? 'passenger_asgi.py'),
    extra: { app_type: 'asgi', ...opts.extra },
    env: { ...process.env, ...opts.env },
  });
}

async function expectLoadFailure(python: string, app: string, opts: Parameters<typeof startApp>[2] = {}): Promise<LoaderFailure> {
  try {
    const run = await startApp(python, app, opts);
    await run.stop();
  } catch (e) {
    const failure = (e as { failure?: LoaderFailure }).failure;
    if (failure) return failure;
    throw e;
  }
  throw new Error(`${app} loaded, but it should have failed`);
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer; rawHeaders: string[] }

function request(run: LoaderRun, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer[]; agent?: http.Agent } = {}): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const req = http.request({ socketPath: run.socketPath, method, path, headers: { host: 'localhost:3000', ...opts.headers }, agent: opts.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks), rawHeaders: res.rawHeaders }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const part of opts.body ?? []) req.write(part);
    req.end();
  });
}

const json = (r: Reply) => JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;

async function waitFor(what: string, predicate: () => boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

function openSocket(run: LoaderRun, path: string, protocols?: string[]): WebSocket {
  return new WebSocket(`ws+unix:${run.socketPath}:${path}`, protocols);
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((r, reject) => {
    ws.once('message', (data: Buffer, isBinary: boolean) => r({ data, isBinary }));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((r) => ws.once('close', (code: number, reason: Buffer) => r({ code, reason: reason.toString() })));
}

function logLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

describe('asgi-loader.py', function () {
  for (const python of PYTHONS) {
    describe(`under ${python}`, function () {
      let run: LoaderRun | undefined;
      let log: string;
      beforeEach(() => { log = join(logDir, `${randomBytes(6).toString('hex')}.log`); });
      afterEach(async () => { await run?.stop(); run = undefined; });
      const start = (env: Record<string, string> = {}) => startApp(python, 'asgi-battery', { env: { ASGI_SPEC_LOG: log, ...env } });

      describe('handshake and lifespan', function () {
        it('runs the lifespan startup before reporting an http_session socket of mode 0600 with unlimited concurrency', async function () {
          run = await start();
          expect(logLines(log)).to.deep.equal(['startup']);
          expect(run.protocol).to.equal('http_session');
          expect(run.concurrency).to.equal(0);
          expect(run.socketPath).to.match(new RegExp(`/asgi\\.${run.child.pid}\\.[0-9a-f]+\\.sock$`));
          const st = statSync(run.socketPath);
          expect(st.isSocket()).to.equal(true);
          expect(st.mode & 0o777).to.equal(0o600);
          // What the startup put in the lifespan state reaches every request's scope.
          expect(json(await request(run, 'GET', '/scope')).state).to.deep.equal({ started_by: 'lifespan' });
        });

        it('turns a startup that raises into a spawn error with the app\'s traceback', async function () {
          const failure = await expectLoadFailure(python, 'asgi-battery', { env: { ASGI_SPEC_STARTUP: 'raise' } });
          expect(failure.error.error_class).to.equal('LifespanStartupFailed');
          expect(failure.error.summary).to.equal("the app's lifespan startup failed: RuntimeError: database unreachable at startup");
          expect(failure.detail).to.match(/Traceback \(most recent call last\):[\s\S]*passenger_asgi\.py", line \d+, in lifespan[\s\S]*RuntimeError: database unreachable/);
        });

        it('turns lifespan.startup.failed into a spawn error with the app\'s message', async function () {
          const failure = await expectLoadFailure(python, 'asgi-battery', { env: { ASGI_SPEC_STARTUP: 'failed' } });
          expect(failure.error.error_class).to.equal('LifespanStartupFailed');
          expect(failure.error.summary).to.equal("the app's lifespan startup failed: config key MISSING_KEY is not set");
        });

        it('refuses a WSGI callable with the fix, and names the startup file when there is no callable', async function () {
          const wsgi = await expectLoadFailure(python, 'asgi-battery', { startupFile: 'wsgi_app.py' });
          expect(wsgi.error.summary).to.match(/`application` in .*wsgi_app\.py is a WSGI app .*not an ASGI one: set app_type to wsgi/);
          const none = await expectLoadFailure(python, 'asgi-battery', { startupFile: 'no_callable.py' });
          expect(none.error.error_class).to.equal('AttributeError');
          expect(none.error.summary).to.match(/no_callable\.py does not define `application` or `app`, the ASGI callable to serve/);
        });
      });

      describe('http', function () {
        it('fills the scope from the request the core forwards', async function () {
          run = await start();
          const scope = json(await request(run, 'GET', '/scope/caf%C3%A9%2Fx?a=1&b=%20', {
            headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9', 'x-custom': 'yes' },
          }));
          expect(scope).to.include({ type: 'http', method: 'GET', path: '/scope/café/x', raw_path: '/scope/caf%C3%A9%2Fx', query_string: 'a=1&b=%20', scheme: 'https', http_version: '1.1', root_path: '', x_custom: 'yes' });
          expect(scope.client).to.deep.equal(['203.0.113.9', 0]);
          expect(scope.asgi).to.deep.equal({ version: '3.0', spec_version: '2.3' });
          expect(scope.header_names).to.include.members(['host', 'x-custom']);
        });

        it('streams a chunked request body to the app in several http.request messages', async function () {
          run = await start();
          const parts = Array.from({ length: 24 }, () => randomBytes(128 * 1024));
          const whole = Buffer.concat(parts);
          const r = json(await request(run, 'POST', '/echo', { body: parts, headers: { 'content-type': 'application/octet-stream' } }));
          expect(r).to.include({ size: whole.length, sha1: createHash('sha1').update(whole).digest('hex'), last_more_body: false, content_type: 'application/octet-stream' });
          expect(r.messages).to.be.above(1);
        });

        it('reads a Content-Length body, and an empty one as a single message', async function () {
          run = await start();
          const body = Buffer.from('a=1&b=2');
          const r = json(await request(run, 'POST', '/echo', { body: [body], headers: { 'content-length': String(body.length) } }));
          expect(r).to.include({ size: 7, messages: 1, last_more_body: false });
          expect(json(await request(run, 'GET', '/echo'))).to.include({ size: 0, messages: 1, last_more_body: false });
        });

        it('streams a response sent with more_body in chunks, and frames a single body message with its length', async function () {
          run = await start();
          const streamed = await request(run, 'GET', '/stream?n=4');
          expect(streamed.headers['transfer-encoding']).to.equal('chunked');
          expect(streamed.body.toString()).to.equal('part 0\npart 1\npart 2\npart 3\n');
          const big = await request(run, 'GET', '/big?size=1048576');
          expect(big.headers['content-length']).to.equal('1048576');
          expect(big.body.length).to.equal(1048576);
          const declared = await request(run, 'GET', '/length');
          expect(declared.headers['content-length']).to.equal('5');
          expect(declared.body.toString()).to.equal('hello');
        });

        it('sends no body for HEAD or 204', async function () {
          run = await start();
          const head = await request(run, 'HEAD', '/big?size=100');
          expect(head.status).to.equal(200);
          expect(head.headers['content-length']).to.equal('100');
          expect(head.body.length).to.equal(0);
          expect((await request(run, 'GET', '/no-content')).status).to.equal(204);
        });

        it('serves many requests on one kept-alive connection', async function () {
          run = await start();
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          try {
            const ports = new Set<string>();
            for (let i = 0; i < 5; i++) {
              const r = await request(run, 'POST', '/echo', { body: [Buffer.from(`body ${i}`)], headers: { 'content-length': String(`body ${i}`.length) }, agent });
              expect(json(r).size).to.equal(`body ${i}`.length);
              ports.add(String(r.headers.connection ?? 'keep-alive'));
            }
            expect([...ports]).to.deep.equal(['keep-alive']);
          } finally {
            agent.destroy();
          }
        });

        it('serves many requests at once in one process', async function () {
          run = await start();
          const replies = await Promise.all(Array.from({ length: 6 }, () => request(run!, 'GET', '/barrier?n=6')));
          expect(replies.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200, 200]);
        });

        it('tells the app http.disconnect when the client goes away', async function () {
          run = await start();
          const req = http.request({ socketPath: run.socketPath, method: 'GET', path: '/disconnect', agent: false });
          req.on('error', () => {});
          req.end();
          await waitFor('the app to wait for a disconnect', () => logLines(log).includes('waiting for disconnect'));
          req.destroy();
          await waitFor('the app to see the disconnect', () => logLines(log).includes('disconnected'));
        });

        it('refuses response trailers cleanly: 500, and the log names the fix', async function () {
          run = await start();
          const r = await request(run, 'GET', '/trailers');
          expect(r.status).to.equal(500);
          await waitFor('the log line', () => run!.output.some((l) => /does not send response trailers .*send the values as headers instead/.test(l)));
          expect((await request(run, 'GET', '/scope')).status).to.equal(200);
        });

        it('answers 500 for an exception, a header with CR/LF, or a str body, logging why, and keeps serving', async function () {
          run = await start();
          expect((await request(run, 'GET', '/raise')).status).to.equal(500);
          const bad = await request(run, 'GET', '/bad-header');
          expect(bad.status).to.equal(500);
          expect(bad.rawHeaders).not.to.include('Injected');
          expect((await request(run, 'GET', '/str-body')).status).to.equal(500);
          const text = () => run!.output.join('\n');
          await waitFor('the log lines', () => /ValueError: failed on purpose/.test(text()) && /header x-bad has a CR, LF or NUL/.test(text()) && /body must be bytes, not str/.test(text()));
          expect((await request(run, 'GET', '/scope')).status).to.equal(200);
        });

        it('breaks off a response the app left incomplete instead of ending it cleanly', async function () {
          run = await start();
          const outcome = await request(run, 'GET', '/incomplete').then(() => 'complete', (e: Error) => e.message);
          expect(outcome).to.match(/aborted|socket hang up|ECONNRESET/);
          await waitFor('the log line', () => run!.output.some((l) => /returned without completing its response to GET \/incomplete/.test(l)));
        });
      });

      describe('websocket', function () {
        it('echoes text and binary messages, with the subprotocol the app chose', async function () {
          run = await start();
          const ws = openSocket(run, '/ws', ['chat.v2', 'chat.v1']);
          await new Promise((r, reject) => { ws.once('open', r); ws.once('error', reject); });
          expect(ws.protocol).to.equal('chat.v2');
          ws.send('hello');
          expect((await nextMessage(ws)).data.toString()).to.equal('echo:hello');
          const big = randomBytes(200 * 1024);
          ws.send(big);
          const reply = await nextMessage(ws);
          expect(reply.isBinary).to.equal(true);
          expect(Buffer.compare(reply.data, Buffer.from(big).reverse())).to.equal(0);
          const done = closed(ws);
          ws.close(4002, 'bye');
          expect((await done).code).to.equal(4002);
          await waitFor('the app to see the close code', () => logLines(log).includes('ws closed by client with 4002'));
        });

        it('passes the close code and reason the app sends to the client', async function () {
          run = await start();
          const ws = openSocket(run, '/ws');
          await new Promise((r) => ws.once('open', r));
          const done = closed(ws);
          ws.send('close-me');
          expect(await done).to.deep.equal({ code: 4001, reason: 'asked to' });
        });

        it('closes with 1011 when the app raises', async function () {
          run = await start();
          const ws = openSocket(run, '/ws');
          await new Promise((r) => ws.once('open', r));
          const done = closed(ws);
          ws.send('raise');
          expect((await done).code).to.equal(1011);
        });

        it('answers 403 to a handshake the app closes, and sends the app\'s own denial response', async function () {
          run = await start();
          const denied = (path: string) => new Promise<{ status: number; body: string }>((r, reject) => {
            const ws = openSocket(run!, path);
            ws.once('open', () => reject(new Error('the handshake was accepted')));
            ws.once('error', () => {});
            ws.once('unexpected-response', (_req, res: http.IncomingMessage) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => r({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
            });
          });
          expect(await denied('/ws-deny')).to.deep.equal({ status: 403, body: '' });
          expect(await denied('/ws-deny-body')).to.deep.equal({ status: 401, body: 'token required' });
        });
      });

      describe('shutdown', function () {
        it('on a byte on stdin: lifespan shutdown, socket removed, exit 0', async function () {
          run = await start();
          const socket = run.socketPath;
          const child = run.child;
          const done = exited(child);
          child.stdin!.write('x');
          expect(await done).to.deep.equal({ code: 0, signal: null });
          expect(logLines(log)).to.deep.equal(['startup', 'shutdown']);
          expect(existsSync(socket)).to.equal(false);
        });

        it('gives up on a lifespan shutdown that hangs, after its timeout', async function () {
          run = await start({ ASGI_SPEC_SHUTDOWN: 'hang' });
          const done = exited(run.child);
          run.child.stdin!.write('x');
          expect(await done).to.deep.equal({ code: 0, signal: null });
          expect(run.output.join('\n')).to.match(/lifespan shutdown did not finish within 4 seconds/);
        });

        it('dies by SIGTERM promptly, removing its socket', async function () {
          run = await start();
          const socket = run.socketPath;
          const done = exited(run.child);
          run.child.kill('SIGTERM');
          expect(await done).to.deep.equal({ code: null, signal: 'SIGTERM' });
          expect(existsSync(socket)).to.equal(false);
        });
      });
    });
  }
});
