// Runs helper-scripts/rack-loader.rb with real ruby processes, driving the
// spawn handshake and the session protocol by hand (spec/support/loader-driver.ts).
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  KeepAliveSession,
  parseRawResponse,
  sessionRequest,
  startLoader,
  type LoaderFailure,
  type LoaderRun,
} from '../support/loader-driver.ts';
import { wakeupsWhileResponsesAreRead } from '../support/loader-wakeups.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const loaderScript = join(root, 'helper-scripts/rack-loader.rb');
const fixture = (name: string) => join(root, 'spec/fixtures/apps', name);

interface StartOptions {
  startupFile?: string;
  extra?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

function startRack(appRoot: string, opts: StartOptions = {}): Promise<LoaderRun> {
  return startLoader({
    command: 'ruby',
    args: [loaderScript],
    appRoot,
    startupFile: join(appRoot, opts.startupFile ?? 'config.ru'),
    extra: { app_type: 'rack', ...opts.extra },
    env: opts.env,
    timeoutMs: 10000,
  });
}

/** Starts a loader that is expected to fail and returns what it reported. */
async function failingRack(appRoot: string, opts: StartOptions = {}): Promise<LoaderFailure> {
  try {
    const run = await startRack(appRoot, opts);
    await run.stop();
  } catch (e) {
    const failure = (e as { failure?: LoaderFailure }).failure;
    if (failure) return failure;
    throw e;
  }
  throw new Error('the loader started although it should have failed');
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | Buffer[];
  password?: string;
  vars?: Record<string, string>;
  /** The body's first piece goes out in the head's write (as from the core). */
  headWithBody?: boolean;
}

/** CGI variables as the core sends them for `target` (path?query). */
function cgiVars(target: string, opts: RequestOptions): Record<string, string> {
  const [path = '/', query = ''] = target.split('?', 2) as [string?, string?];
  return {
    REQUEST_METHOD: opts.method ?? 'GET',
    REQUEST_URI: target,
    SCRIPT_NAME: '',
    PATH_INFO: path,
    QUERY_STRING: query,
    SERVER_NAME: 'localhost',
    SERVER_PORT: '3000',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '51234',
    HTTP_HOST: 'localhost:3000',
    ...opts.headers,
    ...opts.vars,
  };
}

async function rawRequest(run: LoaderRun, target: string, opts: RequestOptions = {}): Promise<Buffer> {
  return sessionRequest(run, cgiVars(target, opts), opts.body, { password: opts.password, headWithBody: opts.headWithBody });
}

async function request(run: LoaderRun, target: string, opts: RequestOptions = {}) {
  return parseRawResponse(await rawRequest(run, target, opts));
}

async function requestJson(run: LoaderRun, target: string, opts: RequestOptions = {}): Promise<Record<string, unknown>> {
  const res = await request(run, target, opts);
  expect(res.status, res.body.toString()).to.equal(200);
  return JSON.parse(res.body.toString()) as Record<string, unknown>;
}

/** Waits until a line of the loader's output (stdout or stderr) satisfies `test`. */
async function outputLine(run: LoaderRun, test: (line: string) => boolean, ms = 5000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const line = run.output.find(test);
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no such output line; output:\n${run.output.join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exitOf(run: LoaderRun): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { child } = run;
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

/** Sends a GET for `path`, waits for the first response bytes, then drops the connection. */
function hangUpAfterFirstBytes(run: LoaderRun, path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const sock = net.connect(run.socketPath);
    const pairs = { PASSENGER_CONNECT_PASSWORD: run.password, ...cgiVars(path, {}) };
    const head = Buffer.from(Object.entries(pairs).map(([k, v]) => `${k}\0${v}\0`).join(''));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(head.length);
    sock.end(Buffer.concat([len, head]));
    sock.once('data', (d) => { sock.destroy(); resolvePromise(d.toString('latin1')); });
    sock.on('error', reject);
  });
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Splits `data` into pieces of `size` bytes, so a body arrives in several writes. */
function pieces(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
}

describe('helper-scripts/rack-loader.rb', function () {
  this.timeout(30000);

  describe('handshake', () => {
    let run: LoaderRun | undefined;
    afterEach(async () => { await run?.stop(); run = undefined; });

    it('reports a private session socket whose concurrency is the threads key', async () => {
      run = await startRack(fixture('rack-basic'));
      expect(run.protocol).to.equal('session');
      expect(run.concurrency).to.equal(1);
      expect(run.socketPath).to.match(new RegExp(`/rack\\.${run.child.pid}\\.[0-9a-f]+\\.sock$`));
      const st = statSync(run.socketPath);
      expect(st.isSocket()).to.equal(true);
      expect(st.mode & 0o777).to.equal(0o600);
      await stopAndCheck(run);

      run = await startRack(fixture('rack-basic'), { extra: { threads: '3' } });
      expect(run.concurrency).to.equal(3);
    });

    it("forwards the app's own stdout lines as output, not as control lines", async () => {
      run = await startRack(fixture('rack-basic'));
      await outputLine(run, (l) => l === `loading rack-basic in ${fixture('rack-basic')}`);
      const res = await request(run, '/stdout');
      expect(res.body.toString()).to.equal('printed');
      await outputLine(run, (l) => l === 'hello from the app on stdout');
    });

    it('sets the process title', async () => {
      run = await startRack(fixture('rack-basic'));
      const data = await requestJson(run, '/env');
      expect(data.title).to.equal(`Passenger RackApp: ${fixture('rack-basic')}`);
    });

    it('refuses a threads key that is not a positive integer', async () => {
      const failure = await failingRack(fixture('rack-basic'), { extra: { threads: '0' } });
      expect(failure.error.error_class).to.equal('ArgumentError');
      expect(failure.error.summary).to.include('threads');
    });

    async function stopAndCheck(r: LoaderRun) {
      await r.stop();
      expect(existsSync(r.socketPath)).to.equal(false);
    }
  });

  describe('an app behind Rack::Lint', () => {
    let run: LoaderRun;
    before(async () => { run = await startRack(fixture('rack-lint')); });
    after(async () => { await run?.stop(); });

    it('gets a SPEC-conforming env for a GET with a query string', async () => {
      const env = await requestJson(run, '/echo?a=1&b=%20x', {
        headers: { HTTP_X_CUSTOM: 'custom value', HTTP_CONTENT_LENGTH: '0' },
      });
      expect(env).to.include({
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '',
        PATH_INFO: '/echo',
        QUERY_STRING: 'a=1&b=%20x',
        SERVER_NAME: 'localhost',
        SERVER_PORT: '3000',
        SERVER_PROTOCOL: 'HTTP/1.1',
        REMOTE_ADDR: '127.0.0.1',
        HTTP_X_CUSTOM: 'custom value',
        CONTENT_TYPE: null,
        CONTENT_LENGTH: null,
        'rack.url_scheme': 'http',
        'rack.multithread': false,
        'rack.multiprocess': true,
        'rack.run_once': false,
        'rack.hijack?': false,
        body_bytes: 0,
        has_http_content_length: false,
      });
      expect(env['rack.version']).to.deep.equal([1, 3]);
    });

    it('sets rack.url_scheme to https when HTTPS is on', async () => {
      const env = await requestJson(run, '/echo', { vars: { HTTPS: 'on' } });
      expect(env['rack.url_scheme']).to.equal('https');
    });

    it('parses a POSTed form', async () => {
      const body = Buffer.from('a=1&b=two+words&c=%C3%A9');
      const form = await requestJson(run, '/form', {
        method: 'POST',
        vars: { CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(body.length) },
        body,
      });
      expect(form).to.deep.equal({ a: '1', b: 'two words', c: 'é' });
    });

    it('streams a large body that the app reads in 1000-byte pieces, then again after rewind', async () => {
      const body = randomBytes(5 * 1024 * 1024 + 123);
      const res = await requestJson(run, '/checksum', {
        method: 'POST',
        vars: { CONTENT_TYPE: 'application/octet-stream', CONTENT_LENGTH: String(body.length) },
        body: pieces(body, 256 * 1024),
      });
      expect(res).to.include({ sha256: sha256(body), size: body.length, sha256_after_rewind: sha256(body) });
    });

    for (const headWithBody of [false, true]) {
      it(`reads a large body read in 64 KiB pieces once from the socket, not back from its temp file as well${headWithBody ? ', its first bytes sent with the head' : ''}`, async () => {
        const body = randomBytes(5 * 1024 * 1024 + 123);
        const res = await requestJson(run, '/checksum?piece=65536', {
          method: 'POST',
          vars: { CONTENT_TYPE: 'application/octet-stream', CONTENT_LENGTH: String(body.length) },
          // With the head: 1000 bytes, so that the loader's first read holds the head and part of the body.
          body: headWithBody ? [body.subarray(0, 1000), ...pieces(body.subarray(1000), 100 * 1024)] : pieces(body, 100 * 1024),
          headWithBody,
        });
        expect(res).to.include({ sha256: sha256(body), size: body.length, sha256_after_rewind: sha256(body) });
        // Read back from the store it would be twice the body (/proc/self/io counts socket and file reads alike).
        expect(res.bytes_read).to.be.within(body.length * 0.99, body.length * 1.2);
      });
    }

    for (const [mode, piece] of [['fresh', 100_000], ['fresh', 65_536], ['mixed', 65_536], ['mixed', 200_000]] as const) {
      it(`serves large pieces straight from the socket in mode ${mode}, ${piece} bytes, and all of it again after rewind`, async () => {
        const body = randomBytes(3 * 1024 * 1024 + 7);
        for (let i = 50; i < body.length; i += 3001) body[i] = 10;
        const res = await requestJson(run, `/checksum?mode=${mode}&piece=${piece}`, {
          method: 'POST',
          vars: { CONTENT_TYPE: 'application/octet-stream', CONTENT_LENGTH: String(body.length) },
          body: pieces(body, 70 * 1024),
        });
        expect(res).to.include({ sha256: sha256(body), size: body.length, sha256_after_rewind: sha256(body) });
      });
    }

    it('reads a body without CONTENT_LENGTH (a chunked upload) until EOF', async () => {
      const body = randomBytes(300 * 1024);
      const res = await requestJson(run, '/checksum', {
        method: 'POST',
        vars: { CONTENT_TYPE: 'application/octet-stream' },
        body: pieces(body, 10000),
      });
      expect(res).to.include({ sha256: sha256(body), size: body.length, sha256_after_rewind: sha256(body) });
    });

    for (const mode of ['gets', 'each']) {
      it(`serves rack.input line by line with ${mode}, long lines included`, async () => {
        const lines = ['short\n', `${'x'.repeat(200 * 1024)}\n`, '\n', 'tail without newline'];
        const body = Buffer.from(lines.join(''));
        const res = await requestJson(run, `/checksum?mode=${mode}`, {
          method: 'POST',
          vars: { CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: String(body.length) },
          body: pieces(body, 7000),
        });
        expect(res).to.include({ sha256: sha256(body), size: body.length, sha256_after_rewind: sha256(body) });
      });
    }

    for (const mode of ['gets', 'each', 'read']) {
      it(`serves a small body that arrives with the request head (${mode})`, async () => {
        const body = Buffer.from('first line\nlast line without newline');
        const res = await requestJson(run, `/checksum?mode=${mode}`, {
          method: 'POST',
          vars: { CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: String(body.length) },
          body,
        });
        expect(res).to.include({ sha256: sha256(body), size: body.length, sha256_after_rewind: sha256(body) });
      });
    }

    it('serves an empty body', async () => {
      const res = await requestJson(run, '/checksum', {
        method: 'POST',
        vars: { CONTENT_TYPE: 'text/plain', CONTENT_LENGTH: '0' },
      });
      expect(res).to.include({ sha256: sha256(Buffer.alloc(0)), size: 0, sha256_after_rewind: sha256(Buffer.alloc(0)) });
    });

    it('answers HEAD without a body', async () => {
      const raw = await rawRequest(run, '/echo', { method: 'HEAD' });
      const text = raw.toString('latin1');
      expect(text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text.endsWith('\r\n\r\n')).to.equal(true);
      expect(text.toLowerCase()).to.include('content-type: application/json\r\n');
    });

    it('sends a streaming body chunked, one chunk per yielded string', async () => {
      const raw = await rawRequest(run, '/stream');
      const res = parseRawResponse(raw);
      expect(res.headers['transfer-encoding']).to.equal('chunked');
      expect(res.headers['content-length']).to.equal(undefined);
      expect(res.body.toString()).to.equal('one-two-three-four');
      expect(raw.toString('latin1')).to.include('\r\n\r\n4\r\none-\r\n4\r\ntwo-\r\n6\r\nthree-\r\n4\r\nfour\r\n0\r\n\r\n');
    });

    it('sends each of several Set-Cookie values as its own header line', async () => {
      const raw = (await rawRequest(run, '/cookies')).toString('latin1');
      expect(raw).to.include('\r\nSet-Cookie: a=1\r\n');
      expect(raw).to.include('\r\nSet-Cookie: b=2\r\n');
    });

    it('closes the response body', async () => {
      const before = (await requestJson(run, '/counted-closes')).closed as number;
      const res = await request(run, '/counted');
      expect(res.body.toString()).to.equal('counted body');
      expect((await requestJson(run, '/counted-closes')).closed).to.equal(before + 1);
    });

    it('logged no Rack::Lint violation', () => {
      expect(run.output.filter((l) => /Lint|Error/.test(l))).to.deep.equal([]);
    });
  });

  describe('responses', () => {
    let run: LoaderRun;
    before(async () => { run = await startRack(fixture('rack-basic')); });
    after(async () => { await run?.stop(); });

    const closed = async () => (await requestJson(run, '/closed')) as Record<string, number>;

    it('sends no body for a HEAD response, never iterates it, and still closes it (as Passenger and Puma do)', async () => {
      const raw = await rawRequest(run, '/recorded?head', { method: 'HEAD' });
      expect(raw.toString('latin1')).to.equal('HTTP/1.1 200 OK\r\n\r\n');
      const seen = await closed();
      expect(seen).to.include({ head: 1 });
      expect(seen).not.to.have.property('head-iterated');
    });

    for (const status of [204, 304]) {
      it(`sends no body and no framing for a ${status}`, async () => {
        const raw = await rawRequest(run, `/recorded?status=${status}`);
        expect(raw.toString('latin1')).to.match(new RegExp(`^HTTP/1\\.1 ${status} [A-Za-z ]+\\r\\n\\r\\n$`));
        expect(await closed()).to.include({ [`status=${status}`]: 1 });
      });
    }

    it("keeps the app's Content-Length and does not chunk", async () => {
      const raw = (await rawRequest(run, '/sized')).toString('latin1');
      expect(raw).to.equal('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello');
    });

    it('gives an Array body a Content-Length', async () => {
      const res = await request(run, '/env');
      expect(res.headers['content-length']).to.equal(String(res.body.length));
    });

    it('takes Rack 3 array header values and streaming (callable) bodies', async () => {
      const headers = (await rawRequest(run, '/rack3-headers')).toString('latin1');
      expect(headers).to.include('\r\nset-cookie: x=1\r\nset-cookie: y=2\r\n');
      const res = await request(run, '/streaming-call');
      expect(res.headers['transfer-encoding']).to.equal('chunked');
      expect(res.body.toString()).to.equal('part1,part2,part3');
    });

    it('passes header values with UTF-8 and binary bytes through', async () => {
      const raw = await rawRequest(run, '/utf8-header');
      const text = raw.toString('utf8');
      expect(text).to.include('\r\nX-Name: Zoë\r\n');
      expect(text).to.include('\r\nX-Raw: café\r\n');
    });

    it('answers 500 when the app raises, logs the backtrace, and goes on serving', async () => {
      const res = await request(run, '/raise');
      expect(res.status).to.equal(500);
      expect(res.body.toString()).to.equal('Internal Server Error\n');
      await outputLine(run, (l) => l.includes('Error while handling GET /raise') && l.includes('boom in a request (RuntimeError)'));
      await outputLine(run, (l) => /from .*rack_session_handler\.rb:\d+/.test(l));
      expect(run.output.some((l) => l.includes(`${fixture('rack-basic')}/config.ru:`))).to.equal(true);
      expect((await request(run, '/env')).status).to.equal(200);
    });

    it('answers 500 when iterating the body raises before anything was sent, and closes the body', async () => {
      const res = await request(run, '/raise-in-body');
      expect(res.status).to.equal(500);
      await outputLine(run, (l) => l.includes('boom while iterating the body (ArgumentError)'));
      expect(await closed()).to.include({ failing: 1 });
    });

    it('answers without reading a large body the app ignores, and drains it so the core sees no reset', async () => {
      const body = randomBytes(3 * 1024 * 1024);
      const sized = await request(run, '/env', {
        method: 'POST',
        vars: { CONTENT_TYPE: 'application/octet-stream', CONTENT_LENGTH: String(body.length) },
        body: pieces(body, 64 * 1024),
      });
      expect(sized.status).to.equal(200);
      const unsized = await request(run, '/env', { method: 'POST', body: pieces(body, 64 * 1024) });
      expect(unsized.status).to.equal(200);
    });

    it('closes the body and goes on serving when the core hangs up in the middle of a response', async () => {
      const first = await hangUpAfterFirstBytes(run, '/endless');
      expect(first).to.match(/^HTTP\/1\.1 200 OK\r\n/);
      for (let i = 0; i < 100 && !(await closed()).endless; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await closed()).to.include({ endless: 1 });
    });

    it('closes a connection with a wrong or missing password without answering', async () => {
      const wrong = await rawRequest(run, '/env', { password: 'f'.repeat(run.password.length) });
      expect(wrong.length).to.equal(0);
      const short = await rawRequest(run, '/env', { password: 'nope' });
      expect(short.length).to.equal(0);
      await outputLine(run, (l) => l.includes('did not carry the right connect password'));
      // a head without the password pair first
      const missing = await sessionRequest(run, { REQUEST_METHOD: 'GET', PATH_INFO: '/env' } as Record<string, string>, undefined, { password: '' });
      expect(missing.length).to.equal(0);
      expect((await request(run, '/env')).status).to.equal(200);
    });
  });

  describe('the built-in config.ru builder', () => {
    let run: LoaderRun | undefined;
    afterEach(async () => { await run?.stop(); run = undefined; });

    it('supports use (with arguments, keywords and a block), nested map, run and warmup without rack', async () => {
      run = await startRack(fixture('rack-builtin'), { extra: { rack_builder: 'builtin' } });
      const rootRes = await request(run, '/');
      expect(rootRes.body.toString()).to.equal('root path=/ rack=absent warmed=1');
      expect(rootRes.headers['x-tags']).to.equal('outer!+block');

      const admin = await request(run, '/admin/users');
      expect(admin.body.toString()).to.equal('admin script=/admin path=/users');
      expect(admin.headers['x-tags']).to.equal('admin,outer!+block');

      const deep = await request(run, '/admin/deep/x');
      expect(deep.body.toString()).to.equal('deep script=/admin/deep path=/x');
      expect(deep.headers['x-tags']).to.equal('admin,outer!+block');

      expect((await request(run, '/administrator')).body.toString()).to.equal('root path=/administrator rack=absent warmed=1');
    });

    it('is used when the bundle does not include rack', async () => {
      const appRoot = mkdtempSync(join(tmpdir(), 'rack-loader-nobundle-'));
      try {
        cpSync(join(fixture('rack-builtin'), 'config.ru'), join(appRoot, 'config.ru'));
        writeFileSync(join(appRoot, 'Gemfile'), "source 'https://rubygems.org'\n");
        run = await startRack(appRoot);
        expect((await request(run, '/')).body.toString()).to.equal('root path=/ rack=absent warmed=1');
      } finally {
        await run?.stop();
        run = undefined;
        rmSync(appRoot, { recursive: true, force: true });
      }
    });
  });

  describe('an app on Rack 3', () => {
    let run: LoaderRun;
    before(async () => { run = await startRack(fixture('rack-3-shaped'), { extra: { rack_builder: 'builtin' } }); });
    after(async () => { await run?.stop(); });

    it('gets no rack.version but a rack.response_finished array', async () => {
      expect(await requestJson(run, '/env')).to.deep.equal({ has_rack_version: false, response_finished: 'Array' });
    });

    it('has to_ary bodies sent with a Content-Length', async () => {
      const raw = (await rawRequest(run, '/to-ary')).toString('latin1');
      expect(raw).to.equal('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nContent-Length: 6\r\n\r\nto-ary');
      expect((await requestJson(run, '/closes')).arrayable).to.be.at.least(1);
    });

    it('runs rack.response_finished callbacks newest first, past one that raises', async () => {
      expect((await request(run, '/finished')).status).to.equal(201);
      expect(await requestJson(run, '/finished-log')).to.deep.equal(['third 201', 'first 201 nil']);
      await outputLine(run, (l) => l.includes('rack.response_finished') && l.includes('callback failure'));
    });
  });

  describe('load failures', () => {
    it('reports an exception raised by config.ru, with a backtrace naming its line', async () => {
      const failure = await failingRack(fixture('rack-broken'), { startupFile: 'raise.ru' });
      expect(failure.error).to.deep.include({
        error_class: 'ArgumentError',
        summary: 'boom while loading (x=1)',
        html: 'false',
      });
      // The exact Ruby, so hints can say which one to run `bundle install` with.
      expect(failure.error.interpreter).to.match(/\/ruby[\d.]*$/);
      expect(failure.error.ruby_version).to.match(/^\d+\.\d+\.\d+$/);
      expect(failure.detail).to.include('second line of the message');
      expect(failure.detail).to.include(`${fixture('rack-broken')}/raise.ru:3`);
    });

    it('reports a syntax error', async () => {
      const failure = await failingRack(fixture('rack-broken'), { startupFile: 'syntax.ru' });
      expect(failure.error.error_class).to.equal('SyntaxError');
      expect(failure.detail).to.include('syntax.ru');
    });

    it('reports a LoadError', async () => {
      const failure = await failingRack(fixture('rack-broken'), { startupFile: 'missing_require.ru' });
      expect(failure.error.error_class).to.equal('LoadError');
      expect(failure.error.summary).to.equal('cannot load such file -- nonexistent_library_xyz');
    });

    it('reports an app that calls exit while loading', async () => {
      const failure = await failingRack(fixture('rack-broken'), { startupFile: 'exit.ru' });
      expect(failure.error.error_class).to.equal('SystemExit');
      expect(failure.error.summary).to.equal('the application exited while loading (exit status 3)');
      expect(failure.output).to.include('giving up');
    });

    it("fails fast with Bundler's message when the Gemfile names a gem that is not installed", async () => {
      const started = Date.now();
      const failure = await failingRack(fixture('rack-missing-gem'));
      expect(Date.now() - started).to.be.below(5000);
      expect(failure.error.error_class).to.equal('Bundler::GemNotFound');
      expect(failure.error.summary).to.include("Could not find gem 'nonexistent_gem_xyz'");
      expect(failure.detail).to.include('nonexistent_gem_xyz');
      expect(existsSync(join(fixture('rack-missing-gem'), 'Gemfile.lock'))).to.equal(false);
    });
  });

  describe('rack-loader.rb and rack-preloader.rb boot alike (lib/ruby/rack_boot.rb)', () => {
    const preloaderScript = join(root, 'helper-scripts/rack-preloader.rb');
    async function failingScript(script: string, appRoot: string, opts: StartOptions): Promise<LoaderFailure> {
      try {
        const run = await startLoader({
          command: 'ruby', args: [script], appRoot, startupFile: join(appRoot, opts.startupFile ?? 'config.ru'),
          extra: { app_type: 'rack', ...opts.extra }, timeoutMs: 10000,
        });
        await run.stop();
      } catch (e) {
        const failure = (e as { failure?: LoaderFailure }).failure;
        if (failure) return failure;
        throw e;
      }
      throw new Error(`${script} started although it should have failed`);
    }

    for (const script of [loaderScript, preloaderScript]) {
      const name = script.split('/').pop()!;
      it(`${name} refuses a log_level that is not a number, naming the key`, async () => {
        const failure = await failingScript(script, fixture('rack-basic'), { extra: { log_level: 'loud' } });
        expect(failure.error.error_class).to.equal('ArgumentError');
        expect(failure.error.summary).to.equal('handshake key log_level must be an integer of at least 0, got "loud"');
      });

      it(`${name} reports an app that calls exit while loading with the same summary`, async () => {
        const failure = await failingScript(script, fixture('rack-broken'), { startupFile: 'exit.ru' });
        expect(failure.error.error_class).to.equal('SystemExit');
        expect(failure.error.summary).to.equal('the application exited while loading (exit status 3)');
      });
    }
  });

  describe('bundler', () => {
    let run: LoaderRun | undefined;
    let appRoot: string;
    before(() => {
      appRoot = mkdtempSync(join(tmpdir(), 'rack-loader-bundled-'));
      cpSync(fixture('rack-bundled'), appRoot, { recursive: true });
    });
    after(async () => {
      await run?.stop();
      rmSync(appRoot, { recursive: true, force: true });
    });

    it("activates the app's bundle before loading it", async () => {
      run = await startRack(appRoot);
      const body = (await request(run, '/')).body.toString();
      expect(body).to.equal(`gemfile=${appRoot}/Gemfile rack=2.2.22 sinatra=hidden`);
    });
  });

  describe('a Sinatra app', () => {
    let run: LoaderRun;
    before(async () => { run = await startRack(fixture('rack-sinatra'), { extra: { threads: '2' } }); });
    after(async () => { await run?.stop(); });

    it('routes with params under a base URI', async () => {
      const res = await request(run, '/sub/hello/world?x=1', { vars: { SCRIPT_NAME: '/sub', PATH_INFO: '/hello/world' } });
      expect(res.status).to.equal(200);
      expect(res.body.toString()).to.equal('hello world (/sub|/hello/world|1)');
    });

    it('reads a multipart upload', async () => {
      const boundary = 'XyZ123';
      const file = randomBytes(200 * 1024);
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="field"\r\n\r\nvalue\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const res = await requestJson(run, '/upload', {
        method: 'POST',
        vars: { CONTENT_TYPE: `multipart/form-data; boundary=${boundary}`, CONTENT_LENGTH: String(body.length) },
        body: pieces(body, 16 * 1024),
      });
      expect(res).to.deep.equal({ bytes: body.length, field: 'value' });
    });

    it('streams with Sinatra::Base#stream', async () => {
      const res = await request(run, '/stream');
      expect(res.body.toString()).to.equal('line 0\nline 1\nline 2\n');
    });
  });

  describe('threads', () => {
    let run: LoaderRun | undefined;
    afterEach(async () => { await run?.stop(); run = undefined; });

    it('serves as many requests at once as the threads key says', async () => {
      run = await startRack(fixture('rack-basic'), { extra: { threads: '4' } });
      expect(run.concurrency).to.equal(4);
      expect((await requestJson(run, '/env')).multithread).to.equal(true);
      const r = run;
      const all = await Promise.all([1, 2, 3, 4].map(() => request(r, '/slow')));
      expect(all.map((res) => res.status)).to.deep.equal([200, 200, 200, 200]);
      expect(await requestJson(run, '/max-in-flight')).to.deep.equal({ max: 4 });
    });

    it('serves one request at a time with threads: 1', async () => {
      run = await startRack(fixture('rack-basic'));
      const r = run;
      await Promise.all([1, 2].map(() => request(r, '/slow')));
      expect(await requestJson(run, '/max-in-flight')).to.deep.equal({ max: 1 });
    });
  });

  describe('environment', () => {
    let run: LoaderRun | undefined;
    afterEach(async () => { await run?.stop(); run = undefined; });

    it('sets RACK_ENV and RAILS_ENV from the environment key, over inherited values, and runs in app_root', async () => {
      run = await startRack(fixture('rack-basic'), {
        extra: { environment: 'staging' },
        env: { ...process.env, RACK_ENV: 'production', RAILS_ENV: 'production' },
      });
      const data = await requestJson(run, '/env');
      expect(data).to.include({ RACK_ENV: 'staging', RAILS_ENV: 'staging', cwd: fixture('rack-basic'), bundler: false });
    });
  });

  describe('keep-alive (PASSENGER_KEEP_ALIVE)', () => {
    let run: LoaderRun | undefined;
    afterEach(async () => { await run?.stop(); run = undefined; });

    it('reports the keepalive socket flag', async () => {
      run = await startRack(fixture('rack-basic'));
      expect(run.socketFlags).to.equal('keepalive');
    });

    it('serves several requests on one connection, draining a body the app did not read, and closes on EOF', async () => {
      run = await startRack(fixture('rack-basic'));
      const conn = new KeepAliveSession(run);
      const first = await conn.request(cgiVars('/env', {}));
      expect(first.status).to.equal(200);
      expect(JSON.parse(first.body.toString())).to.include({ url_scheme: 'http' });
      // /env never reads rack.input: the loader must skip the whole body to find the next head.
      const unread = await conn.request(cgiVars('/env', { method: 'POST' }), randomBytes(300 * 1024));
      expect(unread.status).to.equal(200);
      const head = await conn.request(cgiVars('/env', { method: 'HEAD' }));
      expect(head.status).to.equal(200);
      expect(head.body.length).to.equal(0);
      const missing = await conn.request(cgiVars('/nowhere', {}));
      expect(missing.status).to.equal(404);
      expect(missing.body.toString()).to.equal('not found');
      expect(conn.isClosed).to.equal(false);
      await conn.end();
    });

    it('waits for the next head in poll(2), so that reading its responses does not wake it up', async () => {
      run = await startRack(fixture('rack-basic'));
      // Waiting in a blocking read(2), it was woken once per response read (the core paid for that wake-up).
      expect(await wakeupsWhileResponsesAreRead(run, cgiVars('/env', {}), 20)).to.be.lessThan(5);
    });

    it('closes the connection after a response the app failed to produce', async () => {
      run = await startRack(fixture('rack-basic'));
      const conn = new KeepAliveSession(run);
      expect((await conn.request(cgiVars('/raise', {}))).status).to.equal(500);
      await conn.closed;
    });

    it('closes an idle kept-alive connection on shutdown and exits at once', async () => {
      run = await startRack(fixture('rack-basic'));
      const conn = new KeepAliveSession(run);
      expect((await conn.request(cgiVars('/env', {}))).status).to.equal(200);
      const started = Date.now();
      const exited = exitOf(run);
      run.child.stdin!.write('x');
      await conn.closed;
      expect(await exited).to.deep.equal({ code: 0, signal: null });
      expect(Date.now() - started).to.be.lessThan(2000);
    });
  });

  describe('shutdown', () => {
    let run: LoaderRun | undefined;
    afterEach(async () => { await run?.stop(); run = undefined; });

    it('on a byte on stdin finishes the request in flight, removes the socket and exits 0', async () => {
      run = await startRack(fixture('rack-basic'));
      const inFlight = request(run, '/slow');
      await new Promise((r) => setTimeout(r, 150));
      const exited = exitOf(run);
      run.child.stdin!.write('x');
      expect((await inFlight).body.toString()).to.equal('slept');
      expect(await exited).to.deep.equal({ code: 0, signal: null });
      expect(existsSync(run.socketPath)).to.equal(false);
    });

    it('exits 0 when stdin reaches EOF', async () => {
      run = await startRack(fixture('rack-basic'), { extra: { threads: '2' } });
      const exited = exitOf(run);
      run.child.stdin!.end();
      expect(await exited).to.deep.equal({ code: 0, signal: null });
      expect(existsSync(run.socketPath)).to.equal(false);
    });

    it('gives up on a request still running after the grace period and exits 0', async function () {
      this.timeout(15000);
      run = await startRack(fixture('rack-basic'));
      const stuck = request(run, '/hang').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      const exited = exitOf(run);
      run.child.stdin!.write('x');
      expect(await exited).to.deep.equal({ code: 0, signal: null });
      expect(Date.now() - started).to.be.within(3500, 7000);
      expect(existsSync(run.socketPath)).to.equal(false);
      await outputLine(run, (l) => l.includes('still running') && l.includes('exiting anyway'));
      await stuck;
    });

    it('dies by SIGTERM promptly, even in the middle of a request, removing its socket', async () => {
      run = await startRack(fixture('rack-basic'));
      const inFlight = request(run, '/slow').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      const started = Date.now();
      const exited = exitOf(run);
      run.child.kill('SIGTERM');
      expect(await exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
      expect(Date.now() - started).to.be.below(400);
      expect(existsSync(run.socketPath)).to.equal(false);
      await inFlight;
    });
  });
});
