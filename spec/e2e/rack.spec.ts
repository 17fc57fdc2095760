// Ruby Rack apps through `passenger run`, with real ruby processes: a Sinatra
// app, the Rack::Lint battery, environment, base_uri, threads, failures.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { chunkedUpload, copyFixture, downloadPattern, escapeRe, expectStreaming, multipart, request, sha256 } from './app-helpers.ts';

interface Report { errorClass: string; summary: string; detail: string; output: string[]; code: string }

describe('passenger run: a Sinatra app', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  before(async () => {
    // direct: the loader itself serves (the Lint battery below goes through the default smart spawning).
    p = await startPassenger(fixtureApp('rack-sinatra-full'), { args: ['--threads', '4', '--max-instances', '1', '--spawn-method', 'direct'] });
  });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('serves a route with parameters', async () => {
    const r = await request(`${p!.url}/hello/ada?x=42`);
    expect(r.status).to.equal(200);
    expect(r.headers['content-type']).to.match(/^text\/plain/);
    expect(r.text).to.equal('hello ada (|/hello/ada|42)');
  });

  it('answers JSON and reads a JSON body', async () => {
    const g = await request(`${p!.url}/json?a=1&b=two`);
    expect(g.headers['content-type']).to.match(/^application\/json/);
    expect(g.json()).to.deep.include({ framework: 'sinatra', query: { a: '1', b: 'two' }, rack_env: 'development', rails_env: 'development', multithread: true });
    const body = JSON.stringify({ numbers: [1, 2, 3.5], name: 'zoë' });
    const r = await request(`${p!.url}/json`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(r.json()).to.deep.equal({ sum: 6.5, echoed: { numbers: [1, 2, 3.5], name: 'zoë' } });
  });

  it('reads a urlencoded form post', async () => {
    const r = await request(`${p!.url}/form`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=Grace+Hopper&tags[]=a&tags[]=b%26c' });
    expect(r.json()).to.deep.equal({ name: 'Grace Hopper', tags: ['a', 'b&c'], type: 'application/x-www-form-urlencoded' });
  });

  it('receives a multipart upload of several MiB intact', async () => {
    const data = randomBytes(4 * 1024 * 1024 + 123);
    const m = multipart({ note: 'a file' }, { field: 'file', filename: 'blob.bin', data });
    const r = await request(`${p!.url}/upload`, { method: 'POST', headers: { 'Content-Type': m.contentType }, body: m.body });
    expect(r.json()).to.deep.equal({ filename: 'blob.bin', size: data.length, sha256: sha256(data), note: 'a file' });
  });

  it('receives a raw upload of several MiB intact', async () => {
    const data = randomBytes(6 * 1024 * 1024 + 5);
    const r = await request(`${p!.url}/sha256`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: data });
    expect(r.json()).to.deep.equal({ size: data.length, sha256: sha256(data), content_length: String(data.length) });
  });

  it('receives a chunked upload buffered by the core, with its CONTENT_LENGTH', async () => {
    const up = chunkedUpload(3 * 1024 * 1024 + 77);
    const r = await request(`${p!.url}/sha256`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/octet-stream' }, body: up.pieces });
    expect(r.json()).to.deep.equal({ size: 3 * 1024 * 1024 + 77, sha256: up.sha256(), content_length: String(3 * 1024 * 1024 + 77) });
  });

  it('streams a download of several MiB intact', async () => {
    const r = await request(`${p!.url}/download?mib=8`);
    expect(r.status).to.equal(200);
    expect(r.headers['transfer-encoding']).to.equal('chunked');
    const expected = downloadPattern(8);
    expect({ size: r.body.length, sha256: sha256(r.body) }).to.deep.equal(expected);
  });

  it('redirects', async () => {
    const r = await request(`${p!.url}/redirect`);
    expect(r.status).to.equal(302);
    expect(r.headers.location).to.equal(`http://127.0.0.1:${p!.port}/hello/redirected`);
    expect((await request(r.headers.location!)).text).to.equal('hello redirected (|/hello/redirected|)');
  });

  it('sets cookies and reads them back', async () => {
    const set = await request(`${p!.url}/cookies/set?flavor=oatmeal`);
    const cookies = set.headers['set-cookie']!;
    expect(cookies).to.have.length(2);
    expect(cookies[0]).to.match(/^flavor=oatmeal; path=\//);
    expect(cookies[1]).to.match(/^count=1; path=\/; HttpOnly/i);
    const jar = cookies.map((c) => c.split(';')[0]).join('; ');
    expect((await request(`${p!.url}/cookies`, { headers: { Cookie: jar } })).json()).to.deep.equal({ flavor: 'oatmeal', count: '1' });
  });

  it('streams a response as the app writes it', async () => {
    await expectStreaming(`${p!.url}/stream-gated`, 'before the gate\n', 'after the gate\n');
  });

  it('answers HEAD without a body', async () => {
    const r = await request(`${p!.url}/hello/ada`, { method: 'HEAD' });
    expect(r.status).to.equal(200);
    expect(r.body.length).to.equal(0);
  });

  it('serves several requests at once in one process with threads 4 (and the loader reports that concurrency)', async () => {
    expect(p!.output()).to.match(/\[rack-sinatra-full\] process \d+ ready in \d+ ms \(session, concurrency 4\)/);
    const rs = await Promise.all([1, 2, 3, 4].map(() => request(`${p!.url}/in-flight?wait_for=4`)));
    const bodies = rs.map((r) => r.json<{ max_in_flight: number; pid: number }>());
    expect(bodies.map((b) => b.max_in_flight)).to.deep.equal([4, 4, 4, 4]);
    expect(new Set(bodies.map((b) => b.pid)).size).to.equal(1);
  });

  it('answers 500 for an exception in a request, logs its backtrace, and keeps serving', async () => {
    const before = (await request(`${p!.url}/json`)).json<{ pid: number }>().pid;
    const r = await request(`${p!.url}/raise`);
    expect(r.status).to.equal(500);
    expect(r.text).not.to.match(/sinatra route failed/); // no details to the client
    await p!.waitForOutput(/sinatra route failed on purpose \(NotImplementedError\)/);
    await p!.waitForOutput(/rack-sinatra-full\/config\.ru:\d+:in `block in <class:FullApp>'/);
    const after = (await request(`${p!.url}/json`)).json<{ pid: number }>().pid;
    expect(after).to.equal(before);
  });
});

describe('passenger run: the Rack::Lint battery', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  before(async () => { p = await startPassenger(fixtureApp('rack-lint')); });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('gives the app a valid env', async () => {
    const r = await request(`${p!.url}/echo?q=1`, { method: 'POST', headers: { 'Content-Type': 'text/plain', 'X-Custom': 'yes' }, body: 'twelve bytes' });
    expect(r.status).to.equal(200);
    expect(r.json()).to.deep.include({
      REQUEST_METHOD: 'POST', SCRIPT_NAME: '', PATH_INFO: '/echo', QUERY_STRING: 'q=1', SERVER_NAME: '127.0.0.1', SERVER_PORT: String(p!.port),
      SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', HTTP_X_CUSTOM: 'yes', CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '12',
      'rack.url_scheme': 'http', body_bytes: 12, has_http_content_length: false,
    });
  });

  it('parses a form post', async () => {
    const r = await request(`${p!.url}/form`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=%C3%A9' });
    expect(r.json()).to.deep.equal({ a: '1', b: 'é' });
  });

  for (const mode of ['read', 'gets', 'each']) {
    it(`reads a 5 MiB upload through rack.input#${mode}, and again after rewind`, async () => {
      // Newlines every so often so gets/each see many lines.
      const data = randomBytes(5 * 1024 * 1024);
      for (let i = 100; i < data.length; i += 997) data[i] = 10;
      const r = await request(`${p!.url}/checksum?mode=${mode}`, { method: 'POST', body: data });
      expect(r.json()).to.include({ sha256: sha256(data), size: data.length, sha256_after_rewind: sha256(data) });
    });
  }

  it('reads a chunked upload through rack.input', async () => {
    const up = chunkedUpload(2 * 1024 * 1024 + 3);
    const r = await request(`${p!.url}/checksum?mode=read`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: up.pieces });
    expect(r.json()).to.deep.include({ sha256: up.sha256(), size: 2 * 1024 * 1024 + 3 });
  });

  it('streams a body yielded in pieces', async () => {
    const r = await request(`${p!.url}/stream`);
    expect(r.text).to.equal('one-two-three-four');
  });

  it('sends each line of a multi-line Set-Cookie as its own header', async () => {
    expect((await request(`${p!.url}/cookies`)).headers['set-cookie']).to.deep.equal(['a=1', 'b=2']);
  });

  it('closes every body, also for HEAD', async () => {
    const before = (await request(`${p!.url}/counted-closes`)).json<{ closed: number }>().closed;
    expect((await request(`${p!.url}/counted`)).text).to.equal('counted body');
    const head = await request(`${p!.url}/counted`, { method: 'HEAD' });
    expect(head.body.length).to.equal(0);
    expect((await request(`${p!.url}/counted-closes`)).json<{ closed: number }>().closed).to.equal(before + 2);
  });

  it('passes the app\'s 404 through', async () => {
    const r = await request(`${p!.url}/nowhere`);
    expect([r.status, r.text]).to.deep.equal([404, 'not found']);
  });

  it('logged no Rack::Lint violation', () => {
    expect(p!.output()).not.to.match(/Rack::Lint::LintError/);
  });
});

describe('passenger run: Rack options and failures', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  const made: string[] = [];
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
    for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('sets RACK_ENV and RAILS_ENV from `environment`', async () => {
    p = await startPassenger(fixtureApp('rack-basic'), { args: ['--environment', 'staging'] });
    expect((await request(`${p.url}/env`)).json()).to.deep.include({ RACK_ENV: 'staging', RAILS_ENV: 'staging', multithread: false });
  });

  it('splits SCRIPT_NAME and PATH_INFO at base_uri', async () => {
    p = await startPassenger(fixtureApp('rack-sinatra-full'), { args: ['--base-uri', '/shop'] });
    expect((await request(`${p.url}/shop/hello/ada?x=1`)).text).to.equal('hello ada (/shop|/hello/ada|1)');
    const r = await request(`${p.url}/shop/redirect`);
    expect(r.headers.location).to.equal(`http://127.0.0.1:${p.port}/shop/hello/redirected`);
  });

  it('sends consecutive requests over one kept-alive session connection, bodies of known length included', async () => {
    p = await startPassenger(fixtureApp('rack-basic'), { args: ['--max-instances', '1'] });
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) seen.push((await request(`${p.url}/connection`)).json());
    seen.push((await request(`${p.url}/connection`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: randomBytes(200 * 1024) })).json());
    seen.push((await request(`${p.url}/connection`)).json());
    expect(new Set(seen.map((s) => JSON.stringify(s))).size, JSON.stringify(seen)).to.equal(1);
    // A chunked upload has no known length: it gets a connection of its own, and the app still answers after it.
    const up = chunkedUpload(64 * 1024);
    expect((await request(`${p.url}/connection`, { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: up.pieces })).status).to.equal(200);
    expect((await request(`${p.url}/connection`)).status).to.equal(200);
  });

  it('answers 500 for an exception in a plain Rack app, logs the backtrace, and keeps serving', async () => {
    p = await startPassenger(fixtureApp('rack-basic'));
    const r = await request(`${p.url}/raise`);
    expect(r.status).to.equal(500);
    await p.waitForOutput(/boom in a request \(RuntimeError\)/);
    await p.waitForOutput(/rack-basic\/config\.ru:\d+:in `block /);
    expect((await request(`${p.url}/env`)).status).to.equal(200);
  });

  it('fails the spawn of an app that raises while loading, with class, message and backtrace in the report', async () => {
    p = await startPassenger(fixtureApp('rack-broken'), { args: ['--app-type', 'rack', '--startup-file', 'raise.ru'] });
    const r = await request(`${p.url}/`, { headers: { Accept: 'application/json' } });
    expect(r.status).to.equal(500);
    const report = r.json<Report>();
    expect(report.errorClass).to.equal('ArgumentError');
    expect(report.summary).to.equal('boom while loading (x=1)');
    expect(report.detail).to.match(/second line of the message/);
    expect(report.detail).to.match(new RegExp(`${escapeRe(fixtureApp('rack-broken'))}/raise\\.ru:3`));
    expect(report.detail).to.match(/rack\/builder\.rb:\d+/);
    await p.waitForOutput(/could not start a process \(error [0-9a-f]+\): boom while loading/);
  });

  it('fails the spawn with Bundler\'s own message when a gem in the Gemfile is missing', async () => {
    const dir = copyFixture('rack-missing-gem', made);
    p = await startPassenger(dir);
    const r = await request(`${p.url}/`, { headers: { Accept: 'application/json' } });
    expect(r.status).to.equal(500);
    const report = r.json<Report>();
    expect(`${report.summary}\n${report.detail}`).to.match(/Could not find gem 'nonexistent_gem_xyz'/);
    expect(report.errorClass).to.match(/Bundler::/);
  });

  it('shows the interpreter in `passenger detect`: ruby by default, else the ruby option', async () => {
    const def = await passengerCommand(['detect', fixtureApp('rack-sinatra-full'), '--json']);
    expect(def.code).to.equal(0);
    expect(JSON.parse(def.stdout)).to.deep.include({ appType: 'rack', interpreter: 'ruby', interpreterSource: 'default', protocol: 'session' });
    const set = await passengerCommand(['detect', fixtureApp('rack-sinatra-full'), '--ruby', '/usr/bin/ruby']);
    expect(set.stdout).to.match(/^interpreter\s+\/usr\/bin\/ruby \(ruby: flag --ruby\)$/m);
  });

  it('runs the app with the interpreter the ruby option names', async () => {
    // A wrapper that marks the environment, so the process shows which interpreter started it.
    const dir = mkdtempSync(join(tmpdir(), 'psg-ruby-'));
    made.push(dir);
    const wrapper = join(dir, 'my-ruby');
    writeFileSync(wrapper, '#!/bin/sh\nPSG_VIA_RUBY_WRAPPER=1 exec ruby "$@"\n', { mode: 0o755 });
    const detected = JSON.parse((await passengerCommand(['detect', fixtureApp('rack-sinatra-full'), '--json', '--ruby', wrapper])).stdout) as { interpreter: string };
    expect(detected.interpreter).to.equal(wrapper);
    p = await startPassenger(fixtureApp('rack-sinatra-full'), { args: ['--ruby', wrapper] });
    expect((await request(`${p.url}/json`)).json()).to.deep.include({ via_wrapper: '1' });
  });

  it('runs app processes under SCHED_BATCH unless batch_scheduling is off, with smart and direct spawning', async () => {
    // Field 41 of /proc/PID/stat is the scheduling policy: 0 SCHED_OTHER, 3 SCHED_BATCH.
    const policyOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[38]);
    const pidOf = async () => (await request(`${p!.url}/connection`)).json<{ pid: number }>().pid;
    for (const method of ['smart', 'direct']) {
      p = await startPassenger(fixtureApp('rack-basic'), { args: ['--spawn-method', method] });
      expect(policyOf(await pidOf()), `${method} spawning, default`).to.equal(3);
      await stopAndClean(p);
    }
    p = await startPassenger(fixtureApp('rack-basic'), { args: ['--no-batch-scheduling'] });
    expect(policyOf(await pidOf()), 'batch_scheduling off').to.equal(0);
  });
});
