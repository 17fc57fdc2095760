// Python WSGI apps through `passenger run`, with real python processes: Flask
// and Django apps, the wsgiref.validate battery, base_uri, threads, failures
// and the choice of interpreter (python option, virtualenv, python3).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { chunkedUpload, copyFixture, downloadPattern, escapeRe, expectStreaming, multipart, request, sha256 } from './app-helpers.ts';

interface Report { errorClass: string; summary: string; detail: string; code: string }
interface Detected { interpreter: string; interpreterSource: string; loader: string[]; appType: string; protocol: string }

async function detect(dir: string, ...args: string[]): Promise<Detected> {
  const r = await passengerCommand(['detect', dir, '--json', ...args]);
  expect(r.code, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as Detected;
}

// The same checks for both frameworks; each fixture has the same routes.
function frameworkSpecs(name: string, fixture: string, get: () => RunningPassenger) {
  it(`${name}: serves a route with parameters`, async () => {
    const r = await request(`${get().url}/hello/ada?x=42`);
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.match(/^text\/plain/);
    expect(r.text).to.equal('hello ada (|/hello/ada|42)');
  });

  it(`${name}: answers JSON and reads a JSON body`, async () => {
    const g = await request(`${get().url}/json?a=1&b=two`);
    expect(g.headers['content-type']).to.match(/^application\/json/);
    expect(g.json()).to.deep.include({ framework: name.toLowerCase(), query: { a: '1', b: 'two' } });
    const body = JSON.stringify({ numbers: [1, 2, 3.5], name: 'zoë' });
    const r = await request(`${get().url}/json`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(r.json()).to.deep.equal({ sum: 6.5, echoed: { numbers: [1, 2, 3.5], name: 'zoë' } });
  });

  it(`${name}: reads a urlencoded form post`, async () => {
    const r = await request(`${get().url}/form`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=Grace+Hopper&tag=a&tag=b%26c' });
    expect(r.json()).to.deep.equal({ name: 'Grace Hopper', tags: ['a', 'b&c'], type: 'application/x-www-form-urlencoded' });
  });

  it(`${name}: receives a multipart upload of several MiB intact`, async () => {
    const data = randomBytes(4 * 1024 * 1024 + 123);
    const m = multipart({ note: 'a file' }, { field: 'file', filename: 'blob.bin', data });
    const r = await request(`${get().url}/upload`, { method: 'POST', headers: { 'Content-Type': m.contentType }, body: m.body });
    expect(r.json()).to.deep.equal({ filename: 'blob.bin', size: data.length, sha256: sha256(data), note: 'a file' });
  });

  it(`${name}: receives a raw upload of several MiB intact`, async () => {
    const data = randomBytes(6 * 1024 * 1024 + 5);
    const r = await request(`${get().url}/sha256`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: data });
    expect(r.json()).to.deep.equal({ size: data.length, sha256: sha256(data), content_length: String(data.length) });
  });

  it(`${name}: streams a download of several MiB intact`, async () => {
    const r = await request(`${get().url}/download?mib=8`);
    expect(r.status).to.equal(200);
    expect({ size: r.body.length, sha256: sha256(r.body) }).to.deep.equal(downloadPattern(8));
  });

  it(`${name}: redirects`, async () => {
    const r = await request(`${get().url}/redirect`);
    expect(r.status).to.equal(302);
    expect(r.headers.location).to.equal('/hello/redirected');
    expect((await request(`${get().url}${r.headers.location}`)).text).to.equal('hello redirected (|/hello/redirected|)');
  });

  it(`${name}: sets cookies and reads them back`, async () => {
    const set = await request(`${get().url}/cookies/set?flavor=oatmeal`);
    const cookies = set.headers['set-cookie']!;
    expect(cookies).to.have.length(2);
    expect(cookies[0]).to.match(/^flavor=oatmeal;/);
    expect(cookies[1]).to.match(/^count=1;.*HttpOnly/i);
    const jar = cookies.map((c) => c.split(';')[0]).join('; ');
    expect((await request(`${get().url}/cookies`, { headers: { Cookie: jar } })).json()).to.deep.equal({ flavor: 'oatmeal', count: '1' });
  });

  it(`${name}: streams a response as the app writes it`, async () => {
    await expectStreaming(`${get().url}/stream-gated`, 'before the gate\n', 'after the gate\n');
  });

  it(`${name}: answers HEAD without a body`, async () => {
    const r = await request(`${get().url}/hello/ada`, { method: 'HEAD' });
    expect(r.status).to.equal(200);
    expect(r.body.length).to.equal(0);
  });

  it(`${name}: runs under the interpreter from Passengerfile.json`, async () => {
    expect((await detect(fixtureApp(fixture))).interpreter).to.equal('/usr/bin/python3');
  });
}

describe('passenger run: a Flask app', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  before(async () => {
    p = await startPassenger(fixtureApp('wsgi-flask-full'), { args: ['--threads', '4', '--max-instances', '1'] });
  });
  after(async () => { await stopAndClean(p); p = undefined; });

  frameworkSpecs('Flask', 'wsgi-flask-full', () => p!);

  it('Flask: receives a chunked upload buffered by the core, with its CONTENT_LENGTH', async () => {
    const up = chunkedUpload(3 * 1024 * 1024 + 77);
    const r = await request(`${p!.url}/sha256`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/octet-stream' }, body: up.pieces });
    expect(r.json()).to.deep.equal({ size: 3 * 1024 * 1024 + 77, sha256: up.sha256(), content_length: String(3 * 1024 * 1024 + 77) });
  });

  it('Flask: serves several requests at once in one process with threads 4 (and the loader reports that concurrency)', async () => {
    expect(p!.output()).to.match(/\[wsgi-flask-full\] process \d+ ready in \d+ ms \(session, concurrency 4\)/);
    const rs = await Promise.all([1, 2, 3, 4].map(() => request(`${p!.url}/in-flight?wait_for=4`)));
    const bodies = rs.map((r) => r.json<{ max_in_flight: number; pid: number }>());
    expect(bodies.map((b) => b.max_in_flight)).to.deep.equal([4, 4, 4, 4]);
    expect(new Set(bodies.map((b) => b.pid)).size).to.equal(1);
    expect((await request(`${p!.url}/json`)).json()).to.deep.include({ multithread: true });
  });

  it('Flask: answers 500 for an exception in a view, logs the traceback, and keeps serving', async () => {
    const before = (await request(`${p!.url}/json`)).json<{ pid: number }>().pid;
    const r = await request(`${p!.url}/raise`);
    expect(r.status).to.equal(500);
    expect(r.text).not.to.match(/failed on purpose/); // no details to the client
    await p!.waitForOutput(/LookupError: flask view failed on purpose/);
    await p!.waitForOutput(/wsgi-flask-full\/passenger_wsgi\.py", line \d+, in fail/);
    expect((await request(`${p!.url}/json`)).json<{ pid: number }>().pid).to.equal(before);
  });
});

describe('passenger run: a Django app', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  // direct: the loader itself serves (the Flask app goes through the default smart spawning).
  before(async () => { p = await startPassenger(fixtureApp('wsgi-django-full'), { args: ['--spawn-method', 'direct'] }); });
  after(async () => { await stopAndClean(p); p = undefined; });

  frameworkSpecs('Django', 'wsgi-django-full', () => p!);

  it('Django: a failing view gets Django\'s own 500, and the process keeps serving', async () => {
    const before = (await request(`${p!.url}/json`)).json<{ pid: number }>().pid;
    expect((await request(`${p!.url}/raise`)).status).to.equal(500);
    expect((await request(`${p!.url}/json`)).json<{ pid: number }>().pid).to.equal(before);
  });
});

describe('passenger run: the wsgiref.validate battery', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  before(async () => { p = await startPassenger(fixtureApp('wsgi-battery'), { args: ['--threads', '3', '--max-instances', '1'] }); });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('gives the app a valid environ', async () => {
    const r = await request(`${p!.url}/info?q=1`, { headers: { 'X-Custom': 'yes' } });
    expect(r.status).to.equal(200);
    const info = r.json();
    expect(info).to.deep.include({
      REQUEST_METHOD: 'GET', REQUEST_URI: '/info?q=1', SCRIPT_NAME: '', PATH_INFO: '/info', QUERY_STRING: 'q=1', SERVER_NAME: '127.0.0.1',
      SERVER_PORT: String(p!.port), SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', HTTP_X_CUSTOM: 'yes',
      'wsgi.url_scheme': 'http', 'wsgi.multithread': true, 'wsgi.run_once': false, 'wsgi.version': [1, 0],
    });
    expect(info).not.to.have.property('PASSENGER_CONNECT_PASSWORD');
  });

  it('parses a form post', async () => {
    const r = await request(`${p!.url}/form`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1&a=2&b=%C3%A9' });
    expect(r.json()).to.deep.equal({ a: ['1', '2'], b: ['é'] });
  });

  it('reads a 5 MiB upload intact', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 9);
    expect((await request(`${p!.url}/sha256`, { method: 'POST', body: data })).json()).to.deep.equal({ sha256: sha256(data), length: data.length });
  });

  it('reads a chunked upload to its end (wsgi.input_terminated)', async () => {
    const up = chunkedUpload(2 * 1024 * 1024 + 3);
    const r = await request(`${p!.url}/sha256`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: up.pieces });
    expect(r.json()).to.deep.equal({ sha256: up.sha256(), length: 2 * 1024 * 1024 + 3 });
  });

  it('reads lines with readline', async () => {
    expect((await request(`${p!.url}/lines`, { method: 'POST', body: 'one\ntwo\nthree' })).json()).to.deep.equal({ lines: ['one\n', 'two\n', 'three'] });
  });

  it('streams a generator, and passes write() output first', async () => {
    expect((await request(`${p!.url}/stream`)).text).to.equal('part 0\npart 1\npart 2\n');
    expect((await request(`${p!.url}/write`)).text).to.equal('written directly, then returned');
  });

  it('lets start_response be called again with exc_info before anything was sent', async () => {
    const r = await request(`${p!.url}/exc-info`);
    expect([r.status, r.text]).to.deep.equal([503, 'second thoughts']);
  });

  it('sends repeated Set-Cookie headers', async () => {
    expect((await request(`${p!.url}/cookies`)).headers['set-cookie']).to.deep.equal(['a=1; Path=/', 'b=2; Path=/']);
  });

  it('closes every iterable, also for HEAD', async () => {
    const before = (await request(`${p!.url}/close-count`)).json<{ closes: number }>().closes;
    expect((await request(`${p!.url}/closing`)).text).to.equal('closing body');
    expect((await request(`${p!.url}/closing`, { method: 'HEAD' })).body.length).to.equal(0);
    expect((await request(`${p!.url}/close-count`)).json<{ closes: number }>().closes).to.equal(before + 2);
  });

  it('forwards wsgi.errors to the log', async () => {
    await request(`${p!.url}/errors`);
    await p!.waitForOutput(/note from wsgi\.errors/);
  });

  it('serves as many requests at once as `threads` says', async () => {
    expect(p!.output()).to.match(/process \d+ ready in \d+ ms \(session, concurrency 3\)/);
    const rs = await Promise.all([1, 2, 3].map(() => request(`${p!.url}/in-flight?wait_for=3`)));
    expect(rs.map((r) => r.json<{ max_in_flight: number }>().max_in_flight)).to.deep.equal([3, 3, 3]);
  });

  it('answers 500 for an exception in the app, logs the traceback, and keeps serving', async () => {
    expect((await request(`${p!.url}/boom`)).status).to.equal(500);
    await p!.waitForOutput(/ValueError: kaboom from the app/);
    await p!.waitForOutput(/wsgi-battery\/passenger_wsgi\.py", line \d+, in boom/);
    expect((await request(`${p!.url}/info`)).status).to.equal(200);
  });

  it('logged no wsgiref.validate assertion', () => {
    expect(p!.output()).not.to.match(/AssertionError/);
  });
});

describe('passenger run: WSGI options and failures', function () {
  this.timeout(120000);
  let p: RunningPassenger | undefined;
  const made: string[] = [];
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  for (const [name, fixture] of [['Flask', 'wsgi-flask-full'], ['Django', 'wsgi-django-full']] as const) {
    it(`${name}: splits SCRIPT_NAME and PATH_INFO at base_uri, and redirects below it`, async () => {
      p = await startPassenger(fixtureApp(fixture), { args: ['--base-uri', '/shop'] });
      expect((await request(`${p.url}/shop/hello/ada?x=1`)).text).to.equal('hello ada (/shop|/hello/ada|1)');
      expect((await request(`${p.url}/shop/redirect`)).headers.location).to.equal('/shop/hello/redirected');
    });
  }

  it('fails the spawn of an app that raises while loading, with class, message and traceback in the report', async () => {
    p = await startPassenger(fixtureApp('wsgi-missing-module'));
    const r = await request(`${p.url}/`, { headers: { Accept: 'application/json' } });
    expect(r.status).to.equal(500);
    const report = r.json<Report>();
    expect(report.errorClass).to.equal('ModuleNotFoundError');
    expect(report.summary).to.match(/No module named 'no_such_module_for_wsgi_spec'/);
    expect(report.detail).to.match(new RegExp(`${escapeRe(fixtureApp('wsgi-missing-module'))}/passenger_wsgi\\.py", line 1`));
    await p.waitForOutput(/could not start a process \(error [0-9a-f]+\): .*No module named/);
  });

  it('shows python3 in `passenger detect` when nothing else is set', async () => {
    const plain = await detect(fixtureApp('wsgi-interpreter'));
    expect(plain).to.deep.include({ appType: 'wsgi', protocol: 'session', interpreter: 'python3' });
    expect(plain.interpreterSource).to.match(/^default \(no python option, no .venv\/ or venv\/\)/);
  });

  it('shows the python option in `passenger detect`, from a flag over a virtualenv', async () => {
    const dir = copyFixture('wsgi-interpreter', made);
    execFileSync('python3', ['-m', 'venv', '--without-pip', join(dir, '.venv')], { timeout: 60000 });
    const d = await detect(dir, '--python', '/usr/bin/python3');
    expect(d.interpreter).to.equal('/usr/bin/python3');
    expect(d.interpreterSource).to.match(/flag|command line|--python/);
  });

  for (const venv of ['.venv', 'venv']) {
    it(`uses a virtualenv in ${venv}/ when present: detect shows it and the app runs with it`, async () => {
      const dir = copyFixture('wsgi-interpreter', made);
      execFileSync('python3', ['-m', 'venv', '--without-pip', join(dir, venv)], { timeout: 60000 });
      const python = join(dir, venv, 'bin', 'python');
      const d = await detect(dir);
      expect(d.interpreter).to.equal(python);
      expect(d.interpreterSource).to.equal(`virtualenv ${venv}/ in the app directory`);
      expect(d.loader[0]).to.equal(python);
      p = await startPassenger(dir);
      expect((await request(`${p.url}/`)).json()).to.deep.include({ executable: python, prefix: join(dir, venv) });
    });
  }
});
