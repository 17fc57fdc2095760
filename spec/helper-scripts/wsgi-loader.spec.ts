// helper-scripts/wsgi-loader.py driven directly over the spawn handshake and the
// session protocol (docs/protocols.md), with real Python processes.
import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
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

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const loaderScript = join(repoRoot, 'helper-scripts/wsgi-loader.py');
const appsDir = join(repoRoot, 'spec/fixtures/apps');
// pyenv's build without Debian's modules, and Debian's own (which has flask and django);
// WSGI_SPEC_PYTHONS=a,b,c runs the interpreter-sensitive specs under other interpreters.
const PYTHONS = process.env.WSGI_SPEC_PYTHONS?.split(',').filter(Boolean) ?? ['python3', '/usr/bin/python3'];
const DEBIAN_PYTHON = '/usr/bin/python3';

function startApp(python: string, app: string, extra?: Record<string, string>): Promise<LoaderRun> {
  const appRoot = join(appsDir, app);
  return startLoader({
    command: python,
    args: [loaderScript],
    appRoot,
    startupFile: join(appRoot, 'passenger_wsgi.py'),
    extra: { app_type: 'wsgi', ...extra },
  });
}

async function expectLoadFailure(python: string, app: string): Promise<LoaderFailure> {
  try {
    const run = await startApp(python, app);
    await run.stop();
  } catch (e) {
    const failure = (e as { failure?: LoaderFailure }).failure;
    if (failure) return failure;
    throw e;
  }
  throw new Error(`${app} loaded, but it should have failed`);
}

/** CGI variables as the core sends them for `method uri`. */
function cgi(method: string, uri: string, extra: Record<string, string> = {}): Record<string, string> {
  const [path = '', query = ''] = uri.split('?');
  return {
    REQUEST_METHOD: method,
    REQUEST_URI: uri,
    SCRIPT_NAME: '',
    PATH_INFO: path,
    QUERY_STRING: query,
    SERVER_NAME: 'localhost',
    SERVER_PORT: '3000',
    SERVER_PROTOCOL: 'HTTP/1.1',
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_PORT: '51234',
    HTTP_HOST: 'localhost:3000',
    ...extra,
  };
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  raw: Buffer;
}

async function request(
  run: LoaderRun,
  method: string,
  uri: string,
  opts: { vars?: Record<string, string>; body?: Buffer | Buffer[] } = {},
): Promise<Reply> {
  const raw = await sessionRequest(run, cgi(method, uri, opts.vars), opts.body);
  return { ...parseRawResponse(raw), raw };
}

function json(reply: Reply): Record<string, unknown> {
  return JSON.parse(reply.body.toString('utf8')) as Record<string, unknown>;
}

function formBody(fields: string): { vars: Record<string, string>; body: Buffer } {
  const body = Buffer.from(fields);
  return {
    body,
    vars: { CONTENT_TYPE: 'application/x-www-form-urlencoded', CONTENT_LENGTH: String(body.length) },
  };
}

async function waitFor(what: string, predicate: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

describe('wsgi-loader.py', function () {
  for (const python of PYTHONS) {
    describe(`under ${python}`, function () {
      describe('handshake', function () {
        it('reports a session socket of mode 0600 with concurrency 1 by default', async function () {
          const run = await startApp(python, 'wsgi-battery');
          try {
            expect(run.protocol).to.equal('session');
            expect(run.concurrency).to.equal(1);
            expect(run.socketPath).to.match(/\/wsgi\.\d+\.[0-9a-f]+\.sock$/);
            expect(run.socketPath).to.contain(`wsgi.${run.child.pid}.`);
            const stat = statSync(run.socketPath);
            expect(stat.isSocket()).to.equal(true);
            expect(stat.mode & 0o777).to.equal(0o600);
          } finally {
            await run.stop();
          }
        });

        it('reports the configured number of threads as the concurrency', async function () {
          const run = await startApp(python, 'wsgi-battery', { threads: '4' });
          try {
            expect(run.concurrency).to.equal(4);
            expect(json(await request(run, 'GET', '/info'))['wsgi.multithread']).to.equal(true);
          } finally {
            await run.stop();
          }
        });
      });

      describe('an app wrapped in wsgiref.validate.validator', function () {
        let run: LoaderRun;
        before(async function () {
          run = await startApp(python, 'wsgi-battery');
        });
        after(async function () {
          await run?.stop();
        });

        it('gets a PEP 3333 environ for a GET with a query string', async function () {
          const reply = await request(run, 'GET', '/info?x=1&y=two', { vars: { HTTP_X_CUSTOM: 'yes' } });
          expect(reply.status).to.equal(200);
          const env = json(reply);
          expect(env).to.include({
            REQUEST_METHOD: 'GET',
            REQUEST_URI: '/info?x=1&y=two',
            SCRIPT_NAME: '',
            PATH_INFO: '/info',
            QUERY_STRING: 'x=1&y=two',
            SERVER_NAME: 'localhost',
            SERVER_PORT: '3000',
            SERVER_PROTOCOL: 'HTTP/1.1',
            REMOTE_ADDR: '127.0.0.1',
            REMOTE_PORT: '51234',
            HTTP_X_CUSTOM: 'yes',
            'wsgi.url_scheme': 'http',
            'wsgi.multithread': false,
            'wsgi.multiprocess': true,
            'wsgi.run_once': false,
          });
          expect(env['wsgi.version']).to.deep.equal([1, 0]);
          expect(env).not.to.have.property('CONTENT_LENGTH');
          expect(env).not.to.have.property('CONTENT_TYPE');
          expect(env).not.to.have.property('PASSENGER_CONNECT_PASSWORD');
        });

        it('sets wsgi.url_scheme to https when HTTPS is on', async function () {
          expect(json(await request(run, 'GET', '/info', { vars: { HTTPS: 'on' } }))['wsgi.url_scheme']).to.equal('https');
        });

        it('reads a POSTed form', async function () {
          const reply = await request(run, 'POST', '/form', formBody('name=Ada+L&tag=a&tag=b'));
          expect(reply.status).to.equal(200);
          expect(json(reply)).to.deep.equal({ name: ['Ada L'], tag: ['a', 'b'] });
        });

        it('streams a body of several MiB through wsgi.input intact', async function () {
          const body = randomBytes(5 * 1024 * 1024 + 17);
          const parts = Array.from({ length: 6 }, (_, i) => body.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024));
          const reply = await request(run, 'POST', '/sha256', {
            vars: { CONTENT_TYPE: 'application/octet-stream', CONTENT_LENGTH: String(body.length) },
            body: parts,
          });
          expect(json(reply)).to.deep.equal({ sha256: createHash('sha256').update(body).digest('hex'), length: body.length });
        });

        it('reads a body without CONTENT_LENGTH (a decoded chunked upload) until EOF', async function () {
          const body = randomBytes(300 * 1024);
          const reply = await request(run, 'POST', '/sha256', { body });
          expect(json(reply)).to.deep.equal({ sha256: createHash('sha256').update(body).digest('hex'), length: body.length });
        });

        it('serves wsgi.input in read(1000) pieces', async function () {
          const reply = await request(run, 'POST', '/pieces', {
            vars: { CONTENT_LENGTH: '2500' },
            body: Buffer.alloc(2500, 'x'),
          });
          expect(json(reply)).to.deep.equal({ sizes: [1000, 1000, 500] });
        });

        it('serves wsgi.input line by line', async function () {
          const body = Buffer.from('first\nsecond\n\nlast without newline');
          const reply = await request(run, 'POST', '/lines', { vars: { CONTENT_LENGTH: String(body.length) }, body });
          expect(json(reply)).to.deep.equal({ lines: ['first\n', 'second\n', '\n', 'last without newline'] });
        });

        it('gives an empty body for CONTENT_LENGTH 0, for none, and omits an empty CONTENT_LENGTH', async function () {
          expect(json(await request(run, 'POST', '/empty', { vars: { CONTENT_LENGTH: '0' } })))
            .to.deep.equal({ length: 0, has_content_length: true });
          expect(json(await request(run, 'GET', '/empty'))).to.deep.equal({ length: 0, has_content_length: false });
          expect(json(await request(run, 'POST', '/empty', { vars: { CONTENT_LENGTH: '' } })))
            .to.deep.equal({ length: 0, has_content_length: false });
        });

        it('answers HEAD with headers and no body', async function () {
          const get = await request(run, 'GET', '/info');
          const head = await request(run, 'HEAD', '/info');
          expect(head.status).to.equal(200);
          expect(head.headers['content-type']).to.equal('application/json');
          expect(head.headers['content-length']).to.be.a('string');
          expect(Number(head.headers['content-length'])).to.be.greaterThan(0);
          expect(head.body.length).to.equal(0);
          expect(head.raw.toString('latin1').endsWith('\r\n\r\n')).to.equal(true);
          expect(get.body.length).to.be.greaterThan(0);
        });

        it('streams a generator as chunks', async function () {
          const reply = await request(run, 'GET', '/stream');
          expect(reply.status).to.equal(200);
          expect(reply.headers['transfer-encoding']).to.equal('chunked');
          expect(reply.headers).not.to.have.property('content-length');
          expect(reply.raw.toString('latin1')).to.contain('7\r\npart 0\n\r\n7\r\npart 1\n\r\n');
          expect(reply.raw.toString('latin1').endsWith('0\r\n\r\n')).to.equal(true);
          expect(reply.body.toString()).to.equal('part 0\npart 1\npart 2\n');
        });

        it("calls the iterable's close()", async function () {
          const before = json(await request(run, 'GET', '/close-count')).closes as number;
          const reply = await request(run, 'GET', '/closing');
          expect(reply.body.toString()).to.equal('closing body');
          const after = json(await request(run, 'GET', '/close-count')).closes as number;
          expect(after).to.equal(before + 1);
        });

        it('supports the write() callable', async function () {
          const reply = await request(run, 'GET', '/write');
          expect(reply.status).to.equal(200);
          expect(reply.body.toString()).to.equal('written directly, then returned');
        });

        it('lets start_response with exc_info replace the status before headers are sent', async function () {
          const reply = await request(run, 'GET', '/exc-info');
          expect(reply.status).to.equal(503);
          expect(reply.body.toString()).to.equal('second thoughts');
        });

        it('sends repeated Set-Cookie headers separately', async function () {
          const reply = await request(run, 'GET', '/cookies');
          const head = reply.raw.subarray(0, reply.raw.indexOf('\r\n\r\n')).toString('latin1');
          expect(head.split('\r\n').filter((l) => l.startsWith('Set-Cookie: '))).to.deep.equal([
            'Set-Cookie: a=1; Path=/',
            'Set-Cookie: b=2; Path=/',
          ]);
        });

        it('percent-decodes PATH_INFO into latin-1 bytes and keeps REQUEST_URI raw', async function () {
          const reply = await request(run, 'GET', '/path/caf%C3%A9%20au%20lait');
          expect(reply.body.equals(Buffer.from('/path/café au lait', 'utf8'))).to.equal(true);
          const env = json(await request(run, 'GET', '/%69nfo?q=%41'));
          expect(env).to.include({ PATH_INFO: '/info', REQUEST_URI: '/%69nfo?q=%41', QUERY_STRING: 'q=%41' });
        });

        it('writes wsgi.errors lines to stderr', async function () {
          expect((await request(run, 'GET', '/errors')).status).to.equal(200);
          await waitFor('the wsgi.errors line', () => run.output.includes('note from wsgi.errors'));
        });

        it('closes a connection with a wrong connect password unanswered, then serves the next one', async function () {
          const raw = await sessionRequest(run, cgi('GET', '/info'), undefined, { password: 'not-the-password' });
          expect(raw.length).to.equal(0);
          await waitFor('the rejection log line', () => run.output.some((l) => l.includes('wrong or missing connect password')));
          expect((await request(run, 'GET', '/info')).status).to.equal(200);
        });

        it('answers 500 for an exception in the app, logs the traceback and keeps serving', async function () {
          const reply = await request(run, 'GET', '/boom');
          expect(reply.status).to.equal(500);
          expect(reply.body.toString()).to.equal('Internal Server Error\n');
          await waitFor('the traceback', () => run.output.some((l) => l.includes('ValueError: kaboom from the app')));
          expect(run.output.join('\n')).to.match(/Traceback \(most recent call last\):[\s\S]*passenger_wsgi\.py/);
          expect((await request(run, 'GET', '/info')).status).to.equal(200);
        });

        it('drew no complaint from the validator', function () {
          const complaints = run.output.filter((l) => /WSGIWarning|AssertionError|garbage collected without being closed/.test(l));
          expect(complaints).to.deep.equal([]);
        });
      });

      describe('edge cases the loader handles itself', function () {
        let run: LoaderRun;
        before(async function () {
          run = await startApp(python, 'wsgi-edges');
        });
        after(async function () {
          await run?.stop();
        });

        async function expect500(uri: string, logged: string): Promise<void> {
          const reply = await request(run, 'GET', uri);
          expect(reply.status).to.equal(500);
          expect(reply.body.toString()).to.equal('Internal Server Error\n');
          await waitFor(`"${logged}" in the log`, () => run.output.some((l) => l.includes(logged)));
        }

        it("forwards the app's stdout line by line", async function () {
          expect(run.output).to.include('edges app loading');
          expect((await request(run, 'GET', '/print')).status).to.equal(200);
          await waitFor('the printed line', () => run.output.includes('printed from a request'));
        });

        it('gives a returned list a Content-Length instead of chunking it', async function () {
          const reply = await request(run, 'GET', '/list-without-length');
          expect(reply.headers['content-length']).to.equal('6');
          expect(reply.headers).not.to.have.property('transfer-encoding');
          expect(reply.body.toString()).to.equal('abcdef');
        });

        it("drops the app's hop-by-hop headers and frames the body itself", async function () {
          const reply = await request(run, 'GET', '/hop-by-hop');
          expect(reply.headers).not.to.have.property('connection');
          expect(reply.headers).not.to.have.property('transfer-encoding');
          expect(reply.headers['content-length']).to.equal('20');
          expect(reply.body.toString()).to.equal('framed by the loader');
        });

        it('answers 500 for a header value with CR/LF, an invalid status, a str body, or no start_response', async function () {
          await expect500('/bad-header', 'header X-Split has a CR, LF or NUL in its value');
          await expect500('/bad-status', "invalid status 'OK'");
          await expect500('/str-body', 'str');
          await expect500('/no-start-response', 'did not call start_response');
          await expect500('/non-latin1-header', 'latin-1');
        });

        it('sends latin-1 header values as single bytes', async function () {
          const reply = await request(run, 'GET', '/latin1-header');
          expect(reply.raw.includes(Buffer.from('X-Name: caf\xe9\r\n', 'latin1'))).to.equal(true);
        });

        it('treats SystemExit in a request like any other error', async function () {
          await expect500('/exit', 'SystemExit: 3');
          expect((await request(run, 'GET', '/list-without-length')).status).to.equal(200);
        });

        it('breaks off a chunked response that fails midway, never ending it cleanly', async function () {
          const raw = await sessionRequest(run, cgi('GET', '/fail-midstream'));
          const text = raw.toString('latin1');
          expect(text).to.match(/^HTTP\/1\.1 200 OK\r\n/);
          expect(text).to.contain('Transfer-Encoding: chunked\r\n');
          expect(text).to.contain('5\r\nfirst\r\n');
          expect(text.endsWith('0\r\n\r\n')).to.equal(false);
          await waitFor('the traceback', () => run.output.some((l) => l.includes('RuntimeError: broke after the first chunk')));
        });

        it('never sends more than the Content-Length the app declared', async function () {
          const reply = await request(run, 'GET', '/too-long');
          expect(reply.body.toString()).to.equal('abc');
          expect(reply.raw.toString('latin1').endsWith('\r\n\r\nabc')).to.equal(true);
        });

        it('sends a wsgi.file_wrapper from its current position, with or without a length', async function () {
          const source = readFileSync(join(appsDir, 'wsgi-edges/passenger_wsgi.py'));
          const withLength = await request(run, 'GET', '/file');
          expect(withLength.body.equals(source.subarray(10))).to.equal(true);
          const chunked = await request(run, 'GET', '/file-without-length');
          expect(chunked.headers['transfer-encoding']).to.equal('chunked');
          expect(chunked.body.equals(source)).to.equal(true);
        });

        it('sends no body for 204, nor for HEAD with a generator', async function () {
          const noContent = await request(run, 'GET', '/no-content');
          expect(noContent.status).to.equal(204);
          expect(noContent.raw.toString('latin1').endsWith('\r\n\r\n')).to.equal(true);
          expect(noContent.body.length).to.equal(0);
          const head = await request(run, 'HEAD', '/head-generator');
          expect(head.status).to.equal(200);
          expect(head.raw.toString('latin1').endsWith('\r\n\r\n')).to.equal(true);
        });

        it('offers readline(size), readlines(), read() at the end and iteration on wsgi.input', async function () {
          const body = Buffer.from('abcdef\nline two\nline three\nlast');
          const reply = await request(run, 'POST', '/input-api', { vars: { CONTENT_LENGTH: String(body.length) }, body });
          expect(json(reply)).to.deep.equal({
            first: 'abc',
            second: 'def\n',
            rest: ['line two\n', 'line three\n', 'last'],
            after_end: '',
          });
          const iterated = await request(run, 'POST', '/iterate-input', { body: [Buffer.from('one\ntw'), Buffer.from('o\nthree')] });
          expect(JSON.parse(iterated.body.toString())).to.deep.equal(['one\n', 'two\n', 'three']);
        });
      });

      describe('load-time errors', function () {
        it('reports a missing module with its name, the traceback and the interpreter', async function () {
          const failure = await expectLoadFailure(python, 'wsgi-missing-module');
          expect(failure.error.error_class).to.equal('ModuleNotFoundError');
          expect(failure.error.summary).to.contain('no_such_module_for_wsgi_spec');
          expect(failure.error.html).to.equal('false');
          expect(failure.error.interpreter).to.be.a('string').and.not.equal('');
          expect(failure.error.python_version).to.match(/^3\.\d+\.\d+$/);
          expect(failure.detail).to.contain('Traceback (most recent call last):');
          expect(failure.detail).to.contain(join(appsDir, 'wsgi-missing-module/passenger_wsgi.py'));
          expect(failure.detail, "the loader's own frames are left out").not.to.contain('wsgi-loader.py');
        });

        it('names the startup file when it defines no `application`', async function () {
          const failure = await expectLoadFailure(python, 'wsgi-no-application');
          expect(failure.error.error_class).to.equal('AttributeError');
          expect(failure.error.summary).to.contain(join(appsDir, 'wsgi-no-application/passenger_wsgi.py'));
          expect(failure.error.summary).to.contain('application');
          expect(failure.detail).not.to.contain('Traceback');
        });

        it('recognises an ASGI app (an async __call__) and says so with the fix, instead of a 500 per request', async function () {
          const failure = await expectLoadFailure(python, 'wsgi-raw-asgi');
          expect(failure.error.error_class).to.equal('passenger_app_callable.WrongInterface');
          expect(failure.error.summary).to.equal(`\`application\` in ${join(appsDir, 'wsgi-raw-asgi/passenger_wsgi.py')} is an ASGI app (passenger_wsgi.EchoApp), not a WSGI one: set app_type to asgi (\`passenger run --app-type asgi\`, or "app_type": "asgi" in Passengerfile.json/.passengerrc), which serves it with helper-scripts/asgi-loader.py`);
        });

        it('reports a syntax error with the file and line', async function () {
          const failure = await expectLoadFailure(python, 'wsgi-syntax-error');
          expect(failure.error.error_class).to.equal('SyntaxError');
          expect(failure.detail).to.contain('passenger_wsgi.py", line 1');
        });
      });
    });
  }

  it(`names the interpreter in the error block (${DEBIAN_PYTHON})`, async function () {
    const failure = await expectLoadFailure(DEBIAN_PYTHON, 'wsgi-missing-module');
    expect(failure.error.interpreter).to.equal(DEBIAN_PYTHON);
  });

  describe('threads', function () {
    it('serves as many requests at once as it has threads', async function () {
      const run = await startApp('python3', 'wsgi-battery', { threads: '4' });
      try {
        // Each request waits inside the app until four are in there together.
        const replies = await Promise.all([1, 2, 3, 4].map(() => request(run, 'GET', '/in-flight?wait_for=4')));
        for (const reply of replies) expect(json(reply)).to.deep.equal({ max_in_flight: 4 });
      } finally {
        await run.stop();
      }
    });
  });

  describe('keep-alive (PASSENGER_KEEP_ALIVE)', function () {
    it('reports the keepalive socket flag', async function () {
      const run = await startApp('python3', 'wsgi-battery');
      try {
        expect(run.socketFlags).to.equal('keepalive');
      } finally {
        await run.stop();
      }
    });

    it('serves several requests on one connection, draining a body the app did not read, and closes on EOF', async function () {
      const run = await startApp('python3', 'wsgi-battery', { threads: '2' });
      try {
        const conn = new KeepAliveSession(run);
        const first = await conn.request(cgi('GET', '/info'));
        expect(first.status).to.equal(200);
        expect(json({ ...first, raw: Buffer.alloc(0) })).to.include({ REQUEST_METHOD: 'GET' }).and.not.have.property('PASSENGER_KEEP_ALIVE');
        // /info never reads wsgi.input: the loader must skip the whole body to find the next head.
        const unread = await conn.request(cgi('POST', '/info'), randomBytes(300 * 1024));
        expect(unread.status).to.equal(200);
        const data = randomBytes(100 * 1024);
        const read = await conn.request(cgi('POST', '/sha256'), data);
        expect(read.status).to.equal(200);
        expect(read.body.toString()).to.include(createHash('sha256').update(data).digest('hex'));
        const head = await conn.request(cgi('HEAD', '/info'));
        expect(head.status).to.equal(200);
        expect((await conn.request(cgi('GET', '/nowhere'))).status).to.equal(404);
        expect(conn.isClosed).to.equal(false);
        await conn.end();
      } finally {
        await run.stop();
      }
    });

    it('waits for the next head in poll(2), so that reading its responses does not wake it up', async function () {
      const run = await startApp('python3', 'wsgi-battery');
      try {
        // Waiting in a blocking recv(2), it was woken once per response read (the core paid for that wake-up).
        expect(await wakeupsWhileResponsesAreRead(run, cgi('GET', '/info'), 20)).to.be.lessThan(5);
      } finally {
        await run.stop();
      }
    });

    it('closes the connection after a response the app failed to produce', async function () {
      const run = await startApp('python3', 'wsgi-battery');
      try {
        const conn = new KeepAliveSession(run);
        expect((await conn.request(cgi('GET', '/boom'))).status).to.equal(500);
        await conn.closed;
      } finally {
        await run.stop();
      }
    });

    it('closes an idle kept-alive connection on shutdown and exits at once', async function () {
      const run = await startApp('python3', 'wsgi-battery');
      try {
        const conn = new KeepAliveSession(run);
        expect((await conn.request(cgi('GET', '/info'))).status).to.equal(200);
        const started = Date.now();
        run.child.stdin!.write('x');
        await conn.closed;
        expect(await exited(run.child)).to.deep.equal({ code: 0, signal: null });
        expect(Date.now() - started).to.be.lessThan(2000);
      } finally {
        await run.stop();
      }
    });
  });

  describe('shutdown', function () {
    it('exits 0 and removes its socket after a byte on stdin', async function () {
      const run = await startApp('python3', 'wsgi-battery', { threads: '2' });
      try {
        expect((await request(run, 'GET', '/info')).status).to.equal(200);
        run.child.stdin!.write('x');
        expect(await exited(run.child)).to.deep.equal({ code: 0, signal: null });
        expect(existsSync(run.socketPath)).to.equal(false);
      } finally {
        await run.stop();
      }
    });

    it('lets a request in flight finish before exiting', async function () {
      const run = await startApp('python3', 'wsgi-battery');
      try {
        const slow = request(run, 'GET', '/slow?seconds=0.5');
        await waitFor('the slow request to start', () => run.output.includes('slow request started'));
        run.child.stdin!.end();
        const reply = await slow;
        expect(reply.status).to.equal(200);
        expect(json(reply)).to.deep.equal({ slow: true });
        expect(await exited(run.child)).to.deep.equal({ code: 0, signal: null });
        expect(existsSync(run.socketPath)).to.equal(false);
      } finally {
        await run.stop();
      }
    });

    it('gives up on a request still running after the grace period', async function () {
      this.timeout(15000);
      const run = await startApp('python3', 'wsgi-battery');
      try {
        const stuck = request(run, 'GET', '/slow?seconds=60').then(() => 'answered', () => 'broken off');
        await waitFor('the slow request to start', () => run.output.includes('slow request started'));
        const started = Date.now();
        run.child.stdin!.write('x');
        expect(await exited(run.child)).to.deep.equal({ code: 0, signal: null });
        expect(Date.now() - started).to.be.within(3000, 8000);
        expect(existsSync(run.socketPath)).to.equal(false);
        await stuck;
      } finally {
        await run.stop();
      }
    });

    it('does not wait for non-daemon threads the app started', async function () {
      const run = await startApp('python3', 'wsgi-edges');
      try {
        const started = Date.now();
        run.child.stdin!.write('x');
        expect(await exited(run.child)).to.deep.equal({ code: 0, signal: null });
        expect(Date.now() - started).to.be.lessThan(2000);
      } finally {
        await run.stop();
      }
    });

    it('exits promptly on SIGTERM, removing its socket', async function () {
      const run = await startApp('python3', 'wsgi-battery');
      try {
        const started = Date.now();
        run.child.kill('SIGTERM');
        expect(await exited(run.child)).to.deep.equal({ code: null, signal: 'SIGTERM' });
        expect(Date.now() - started).to.be.lessThan(2000);
        expect(existsSync(run.socketPath)).to.equal(false);
      } finally {
        await run.stop();
      }
    });
  });

  describe(`frameworks under ${DEBIAN_PYTHON}`, function () {
    it('serves a small Flask app', async function () {
      const run = await startApp(DEBIAN_PYTHON, 'wsgi-flask');
      try {
        const hello = await request(run, 'GET', '/hello.json?who=me');
        expect(hello.status).to.equal(200);
        expect(hello.headers['content-type']).to.equal('application/json');
        expect(json(hello)).to.deep.equal({ greeting: 'hello', path: '/hello.json', args: { who: 'me' } });
        const posted = await request(run, 'POST', '/form', formBody('name=Grace&tag=x&tag=y'));
        expect(json(posted)).to.deep.equal({ name: 'Grace', tags: ['x', 'y'] });
        expect((await request(run, 'GET', '/nowhere')).status).to.equal(404);
      } finally {
        await run.stop();
      }
    });

    it('serves a small Django project', async function () {
      const run = await startApp(DEBIAN_PYTHON, 'wsgi-django');
      try {
        const hello = await request(run, 'GET', '/hello.json');
        expect(hello.status).to.equal(200);
        expect(hello.headers['content-type']).to.equal('application/json');
        expect(json(hello)).to.deep.equal({ greeting: 'hello', path: '/hello.json', script_name: '' });
        const posted = await request(run, 'POST', '/form', formBody('name=Linus&tag=k'));
        expect(json(posted)).to.deep.equal({ name: 'Linus', tags: ['k'] });
        expect((await request(run, 'GET', '/form')).status).to.equal(405);
      } finally {
        await run.stop();
      }
    });
  });
});
