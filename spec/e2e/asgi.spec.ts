// Python ASGI apps through `passenger run`, with Debian's python3-fastapi (0.92),
// python3-starlette and python3-django under /usr/bin/python3 (each fixture's
// Passengerfile.json sets the python option): zero-config detection, a FastAPI
// app end to end, lifespan, client disconnects, WebSocket echo through our
// engine and through nginx, Django's ASGI handler, and the errors a new user meets.
import { expect } from 'chai';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import getPort from 'get-port';
import WebSocket from 'ws';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { startNginx, type RunningNginx } from '../support/nginx.ts';
import { copyFixture, escapeRe, expectStreaming, multipart, request, sha256 } from './app-helpers.ts';

interface Detected { appType: string; startupFile: string; reason: string; protocol: string; loader: string[]; interpreter: string }
interface Report { errorClass: string; summary: string; detail: string; hints: { title: string; body: string }[] }

async function detect(dir: string, ...args: string[]): Promise<Detected> {
  const r = await passengerCommand(['detect', dir, '--json', ...args]);
  expect(r.code, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as Detected;
}

async function waitFor(what: string, predicate: () => boolean, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const events = (dir: string) => (existsSync(join(dir, 'events.log')) ? readFileSync(join(dir, 'events.log'), 'utf8').split('\n').filter(Boolean) : []);

async function echoRoundTrip(url: string, headers: Record<string, string> = {}): Promise<{ text: string; binary: Buffer }> {
  const ws = new WebSocket(url, { headers });
  await new Promise((r, reject) => { ws.once('open', r); ws.once('error', reject); ws.once('unexpected-response', (_q, res: http.IncomingMessage) => reject(new Error(`handshake answered ${res.statusCode}`))); });
  const next = () => new Promise<Buffer>((r) => ws.once('message', (d: Buffer) => r(d)));
  ws.send('héllo');
  const text = (await next()).toString();
  ws.send(Buffer.from([1, 2, 3, 250]));
  const binary = await next();
  const closed = new Promise((r) => ws.once('close', r));
  ws.close(1000);
  await closed;
  return { text, binary };
}

describe('passenger detect: Python layouts, read and never run', function () {
  this.timeout(60000);
  after(() => removeApps());

  it('finds a FastAPI app in main.py and a Starlette app in app.py, and says why', async () => {
    const fastapi = await detect(fixtureApp('asgi-fastapi'));
    expect(fastapi).to.deep.include({ appType: 'asgi', protocol: 'http_session', startupFile: join(fixtureApp('asgi-fastapi'), 'main.py') });
    expect(fastapi.reason).to.equal('main.py creates a FastAPI app (`app = FastAPI(...)`)');
    expect(fastapi.loader[1]).to.match(/helper-scripts\/asgi-preloader\.py$/);
    const starlette = await detect(fixtureApp('asgi-starlette-ws'));
    expect(starlette).to.deep.include({ appType: 'asgi', startupFile: join(fixtureApp('asgi-starlette-ws'), 'app.py') });
    expect(starlette.reason).to.equal('app.py creates a Starlette app (`app = Starlette(...)`)');
  });

  it('follows a Django project from manage.py to its settings and WSGI_APPLICATION, or to asgi.py with app_type asgi', async () => {
    const dir = fixtureApp('asgi-django');
    const wsgi = await detect(dir);
    expect(wsgi).to.deep.include({ appType: 'wsgi', protocol: 'session', startupFile: join(dir, 'mysite/wsgi.py') });
    expect(wsgi.reason).to.equal('Django project: manage.py sets DJANGO_SETTINGS_MODULE mysite.settings (mysite/settings.py), WSGI_APPLICATION mysite.wsgi.application -> mysite/wsgi.py');
    const asgi = await detect(dir, '--app-type', 'asgi');
    expect(asgi).to.deep.include({ appType: 'asgi', startupFile: join(dir, 'mysite/asgi.py') });
    expect(asgi.reason).to.equal('app_type is asgi; Django project: manage.py sets DJANGO_SETTINGS_MODULE mysite.settings (mysite/settings.py), no ASGI_APPLICATION in mysite/settings.py, so mysite.asgi.py next to it -> mysite/asgi.py');
  });

  it('finds a Flask app in app.py without passenger_wsgi.py', async () => {
    const d = await detect(fixtureApp('wsgi-flask-zero'));
    expect(d).to.deep.include({ appType: 'wsgi', startupFile: join(fixtureApp('wsgi-flask-zero'), 'app.py'), reason: 'app.py creates a Flask app (`app = Flask(...)`)' });
  });

  it('serves a file that shows both Flask and FastAPI as WSGI unless app_type asgi is set', async () => {
    const dir = makeApp({ 'app.py': 'from flask import Flask\nfrom fastapi import FastAPI\napp = Flask(__name__)\napplication = FastAPI()\n' });
    expect((await detect(dir)).appType).to.equal('wsgi');
    const d = await detect(dir, '--app-type', 'asgi');
    expect(d).to.deep.include({ appType: 'asgi', reason: 'app_type is asgi; app.py creates a FastAPI app (`application = FastAPI(...)`)' });
  });

  it('does not import or run the app to detect it, and ignores a Flask( in a comment', async () => {
    const dir = makeApp({
      'main.py': "open('IMPORTED', 'w').write('ran')\nfrom fastapi import FastAPI\napp = FastAPI()\n",
      'app.py': '# this used to be app = Flask(__name__)\nprint("hi")\n',
    });
    const d = await detect(dir);
    expect(d).to.deep.include({ appType: 'asgi', startupFile: join(dir, 'main.py') });
    expect(existsSync(join(dir, 'IMPORTED'))).to.equal(false);
  });

  it('finds passenger_asgi.py, and asgi.py only when it defines application or app', async () => {
    const explicit = makeApp({ 'asgi.py': 'async def application(scope, receive, send):\n    pass\n' });
    expect(await detect(explicit)).to.deep.include({ appType: 'asgi', reason: 'found asgi.py, which defines `application`' });
    const unrelated = makeApp({ 'asgi.py': 'X = 1\n', 'main.py': 'import starlette.applications\napp = starlette.applications.Starlette()\n' });
    expect((await detect(unrelated)).reason).to.equal('main.py creates a Starlette app (`app = Starlette(...)`)');
  });

  it('says which Python files it found and why they did not fit when nothing matches', async () => {
    const dir = makeApp({ 'asgi.py': 'X = 1\n', 'main.py': 'from fastapi import FastAPI\napi = FastAPI()\n', 'app.py': 'import flask\nserver = flask.Flask(__name__)\n' });
    const r = await passengerCommand(['detect', dir, '--json']);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include('PSG_ERR_DETECT_NO_MATCH');
    expect(r.stderr).to.include('found asgi.py, but it defines no `application` or `app` (rename the callable, or set startup_file) (Python (ASGI))');
    expect(r.stderr).to.include('main.py creates FastAPI( as `api`; the loader serves `application` or `app` (add `app = api`) (Python (ASGI))');
    expect(r.stderr).to.include('app.py creates Flask( as `server`; the loader serves `application` or `app` (add `app = server`) (Python (WSGI))');
  });

  it('claims passenger_asgi.py whatever it holds, so the loader can name what is missing in it', async () => {
    const dir = makeApp({ 'passenger_asgi.py': 'from myproject.server import make_app\n' });
    expect(await detect(dir)).to.deep.include({ appType: 'asgi', startupFile: join(dir, 'passenger_asgi.py'), reason: 'found passenger_asgi.py' });
  });
});

describe('passenger run: a FastAPI app (python3-fastapi 0.92)', function () {
  this.timeout(90000);
  const made: string[] = [];
  let dir: string;
  let p: RunningPassenger | undefined;
  before(async () => {
    dir = copyFixture('asgi-fastapi', made);
    p = await startPassenger(dir);
  });
  after(async () => {
    await stopAndClean(p);
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });

  it('runs the startup handlers before serving, with an unlimited concurrency reported', async () => {
    await p!.waitForOutput(/\[psg-asgi-fastapi-[\w-]+\] process \d+ ready in \d+ ms \(http_session, concurrency unlimited\)/);
    const r = await request(`${p!.url}/items/7`);
    expect(events(dir)).to.include(`startup pid=${r.json<{ pid: number }>().pid}`);
  });

  it('serves path and query parameters, JSON in and out, and FastAPI\'s own 404 and 422', async () => {
    expect((await request(`${p!.url}/items/42?q=blue`)).json()).to.deep.include({ item_id: 42, q: 'blue' });
    const ok = await request(`${p!.url}/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ item: 'tea', quantity: 4 }) });
    expect(ok.json()).to.deep.equal({ item: 'tea', total: 12 });
    const invalid = await request(`${p!.url}/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ item: 'tea', quantity: 'many' }) });
    expect(invalid.status).to.equal(422);
    expect(JSON.stringify(invalid.json())).to.match(/quantity/);
    const notInt = await request(`${p!.url}/items/seven`);
    expect(notInt.status).to.equal(422);
    const missing = await request(`${p!.url}/nowhere`);
    expect(missing.status).to.equal(404);
    expect(missing.json()).to.deep.equal({ detail: 'Not Found' });
  });

  it('reads a urlencoded form and a multipart upload of several MiB intact', async () => {
    const form = await request(`${p!.url}/form`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=Grace+Hopper&tag=b%26c' });
    expect(form.json()).to.deep.equal({ name: 'Grace Hopper', tag: 'b&c' });
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const m = multipart({}, { field: 'file', filename: 'blob.bin', data });
    const up = await request(`${p!.url}/upload`, { method: 'POST', headers: { 'Content-Type': m.contentType }, body: m.body });
    expect(up.json()).to.deep.equal({ filename: 'blob.bin', size: data.length, sha256: sha256(data) });
  });

  it('streams a StreamingResponse as the app produces it', async () => {
    await expectStreaming(`${p!.url}/stream`, 'first\n', 'second\nthird\n');
  });

  it('runs a background task after the response', async () => {
    const word = `w${randomBytes(4).toString('hex')}`;
    expect((await request(`${p!.url}/background?word=${word}`, { method: 'POST' })).json()).to.deep.equal({ queued: word });
    await waitFor('the background task', () => events(dir).includes(`background ${word}`));
  });

  it('lets the app see the client go away', async () => {
    const req = http.get(`${p!.url}/until-disconnect`, { agent: false });
    req.on('error', () => {});
    await waitFor('the request to reach the app', () => events(dir).includes('waiting'));
    req.destroy();
    await waitFor('the app to see the disconnect', () => events(dir).includes('client went away'));
  });

  it('runs the shutdown handlers when the server stops, and leaves no process behind', async () => {
    const pid = (await request(`${p!.url}/items/1`)).json<{ pid: number }>().pid;
    await stopAndClean(p);
    p = undefined;
    expect(events(dir)).to.include(`shutdown pid=${pid}`);
  });
});

describe('passenger run: ASGI processes, spawning and limits', function () {
  this.timeout(90000);
  const made: string[] = [];
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });
  after(() => { for (const d of made) rmSync(d, { recursive: true, force: true }); });

  it('forks processes from a preloader, each running its own lifespan startup', async () => {
    const dir = copyFixture('asgi-fastapi', made);
    p = await startPassenger(dir, { args: ['--min-instances', '2'] });
    await p.waitForOutput(/process \d+ ready[\s\S]*process \d+ ready/);
    const starts = events(dir).filter((l) => l.startsWith('startup'));
    expect(starts).to.have.length(2);
    expect(new Set(starts).size).to.equal(2);
  });

  it('caps the requests per process with force_max_concurrent_requests_per_process', async () => {
    const dir = copyFixture('asgi-fastapi', made);
    p = await startPassenger(dir, { args: ['--force-max-concurrent-requests-per-process', '3'] });
    await request(`${p.url}/items/1`);
    await p.waitForOutput(/process \d+ ready in \d+ ms \(http_session, concurrency 3\)/);
  });

  it('refuses to fork from a preloader in which the app left an event loop running, and says what to do', async () => {
    p = await startPassenger(fixtureApp('asgi-loop-at-import'));
    const r = await request(`${p.url}/`, { headers: { Accept: 'application/json' } });
    expect(r.status).to.equal(500);
    expect(r.json<Report>().summary).to.match(/refused: the app left 1 asyncio event loop\(s\) running while it was imported \(threads: metrics-loop\).*lifespan startup.*spawn_method to direct/);
  });

  it('serves that app with spawn_method direct', async () => {
    p = await startPassenger(fixtureApp('asgi-loop-at-import'), { args: ['--spawn-method', 'direct'] });
    expect((await request(`${p.url}/`)).text).to.equal('forked anyway');
  });

  it('serves Django\'s ASGI handler with app_type asgi: an async view and a sync view', async () => {
    p = await startPassenger(fixtureApp('asgi-django'), { args: ['--app-type', 'asgi'] });
    expect((await request(`${p.url}/async/ada?q=1`)).json()).to.deep.include({ view: 'async', name: 'ada', q: '1' });
    expect((await request(`${p.url}/sync`)).json()).to.deep.equal({ view: 'sync', main_thread: false });
  });

  it('serves the same Django project over WSGI without configuration', async () => {
    p = await startPassenger(fixtureApp('asgi-django'));
    expect((await request(`${p.url}/sync`)).json()).to.deep.include({ view: 'sync' });
    await p.waitForOutput(/process \d+ ready in \d+ ms \(session, concurrency 1\)/);
  });

  it('serves a Flask app found in app.py', async () => {
    p = await startPassenger(fixtureApp('wsgi-flask-zero'));
    expect((await request(`${p.url}/`)).text).to.equal('flask without passenger_wsgi.py');
  });

  it('shows a failed lifespan startup on the error page with the app\'s traceback', async () => {
    p = await startPassenger(fixtureApp('asgi-lifespan-fails'));
    const r = await request(`${p.url}/`, { headers: { Accept: 'application/json' } });
    expect(r.status).to.equal(500);
    const report = r.json<Report>();
    expect(report.errorClass).to.equal('LifespanStartupFailed');
    expect(report.summary).to.equal("the app's lifespan startup failed: ConnectionRefusedError: postgres on 127.0.0.1:1 refused the connection");
    expect(report.detail).to.match(new RegExp(`${escapeRe(fixtureApp('asgi-lifespan-fails'))}/main\\.py", line \\d+, in connect_to_database`));
    expect(report.hints.map((h) => h.title)).to.include('Look at main.py, line 8');
  });

  it('names /usr/bin/python3 and the python option when the default python3 lacks fastapi', async () => {
    const dir = copyFixture('asgi-fastapi', made);
    rmSync(join(dir, 'Passengerfile.json'));
    p = await startPassenger(dir);
    const report = (await request(`${p.url}/`, { headers: { Accept: 'application/json' } })).json<Report & { hints: { title: string; command?: string }[] }>();
    expect(report.summary).to.equal("No module named 'fastapi'");
    expect(report.hints[0]).to.deep.include({ title: '/usr/bin/python3 has "fastapi": set the python option to use it', command: 'passenger run --python /usr/bin/python3' });
  });

  it('says "this is an ASGI app" with the fix when a FastAPI app is given to the WSGI loader', async () => {
    p = await startPassenger(fixtureApp('wsgi-given-asgi'));
    const r = await request(`${p.url}/`, { headers: { Accept: 'application/json' } });
    expect(r.status).to.equal(500);
    const report = r.json<Report>();
    expect(report.errorClass).to.equal('passenger_app_callable.WrongInterface');
    expect(report.summary).to.match(/`application` in .*passenger_wsgi\.py is an ASGI app \(fastapi\.applications\.FastAPI\), not a WSGI one: set app_type to asgi/);
  });
});

describe('WebSocket echo in a Starlette app', function () {
  this.timeout(120000);
  let p: RunningPassenger | undefined;
  let nginx: RunningNginx | undefined;
  after(async () => {
    await nginx?.stop();
    await stopAndClean(p);
  });

  it('round-trips text and binary messages through the built-in engine', async () => {
    p = await startPassenger(fixtureApp('asgi-starlette-ws'));
    expect((await request(`${p.url}/`)).text).to.equal('starlette home, scheme http');
    expect(await echoRoundTrip(`ws://127.0.0.1:${p.port}/ws`)).to.deep.equal({ text: 'echo:héllo', binary: Buffer.from([250, 3, 2, 1]) });
  });

  it('round-trips text and binary messages through nginx (SCGI)', async () => {
    chmodSync(p!.registryDir, 0o711);
    const port = await getPort({ host: '127.0.0.1' });
    const conf = await passengerCommand(['nginx-config', fixtureApp('asgi-starlette-ws'), '--listen', `127.0.0.1:${port}`, '--instance-registry-dir', p!.registryDir]);
    expect(conf.code, conf.stderr).to.equal(0);
    nginx = startNginx(conf.stdout);
    let reply: { text: string; binary: Buffer } | undefined;
    const deadline = Date.now() + 15000;
    for (;;) {
      try {
        reply = await echoRoundTrip(`ws://127.0.0.1:${port}/ws`, { Host: 'asgi-starlette-ws' });
        break;
      } catch (e) {
        if (nginx.exited() || Date.now() > deadline) throw new Error(`${(e as Error).message}; nginx: ${nginx.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(reply).to.deep.equal({ text: 'echo:héllo', binary: Buffer.from([250, 3, 2, 1]) });
  });
});
