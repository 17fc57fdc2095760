// The loader contract: what every loader promises the core (docs/protocols.md
// sections 1 to 3), as test cases any loader can be run against: the built-in
// Rack, WSGI and Node.js loaders pass it (spec/testing/loader-contract.spec.ts),
// and so should a plugin's. It defines mocha-style `describe`/`it` blocks
// through the functions it is given (mocha's globals by default), and asserts
// with node:assert, so it needs no test framework of its own at run time.
import assert from 'node:assert/strict';
import { isAbsolute, dirname } from 'node:path';
import { LoaderFailedError, startLoader, type LoaderCommand, type ProtocolClient, type RunningLoader } from './loader.ts';

export interface ContractApp {
  /** The app's directory (app_root). */
  root: string;
  /** Absolute path of its startup file. */
  startupFile: string;
  /** A path the app answers with a 2xx status (default `/`). */
  path?: string;
}

export interface LoaderUnderTest extends LoaderCommand {
  /** Shown in the test titles. */
  name: string;
  /** The protocol its socket line must report: `session`, `http_session`, or one a plugin registers (then give `client`). */
  protocol: string;
  /** Speaks `protocol` when it is neither `session` nor `http_session`. */
  client?: ProtocolClient;
  /** An app it serves. */
  app: ContractApp;
  /** An app that fails to load (raises, does not parse): the loader must report it. Without it that case is not defined. */
  brokenApp?: ContractApp;
  /** Handshake keys besides the core's own: `app_type`, your plugin's keys. */
  handshake?: Readonly<Record<string, string>>;
  /** How long one start may take, in ms (default 15000); each case gets twice this plus 10 s. */
  timeoutMs?: number;
}

/** The two functions the suite defines its cases with; mocha's and node:test's have this shape. */
export interface TestFramework {
  describe(title: string, body: () => void): unknown;
  it(title: string, body: () => Promise<void>): unknown;
}

function globalFramework(): TestFramework {
  const g = globalThis as { describe?: TestFramework['describe']; it?: TestFramework['it'] };
  if (typeof g.describe !== 'function' || typeof g.it !== 'function') {
    throw new Error('describeLoaderContract: no global describe/it (run it under mocha, or pass { describe, it } from your test framework)');
  }
  return { describe: g.describe, it: g.it };
}

/** An unknown handshake key, sent on every start: a loader must ignore keys it does not know. */
const UNKNOWN_KEY = { passenger_testkit_unknown_key: 'a loader ignores keys it does not know' };

/**
 * Defines the loader contract's test cases for `loader` in a `describe`
 * block named after it. Call it at the top level of a spec file (or inside
 * your own describe).
 */
export function describeLoaderContract(loader: LoaderUnderTest, framework: TestFramework = globalFramework()): void {
  const { describe, it } = framework;
  const startMs = loader.timeoutMs ?? 15000;
  const caseMs = startMs * 2 + 10000;
  const start = (app: ContractApp = loader.app) => startLoader({
    command: loader.command, args: loader.args, env: loader.env, appRoot: app.root, startupFile: app.startupFile,
    handshake: { ...UNKNOWN_KEY, ...loader.handshake }, timeoutMs: startMs, ...(loader.client ? { client: loader.client } : {}),
  });
  /** Runs `body` on a fresh loader, then stops it (its own exit is checked by the shutdown cases). */
  const withLoader = async (body: (run: RunningLoader) => Promise<void>) => {
    const run = await start();
    try {
      await body(run);
    } finally {
      await run.stop();
    }
  };
  const test = (title: string, body: () => Promise<void>) => {
    const t = it(title, body) as { timeout?: (ms: number) => unknown } | undefined;
    if (t && typeof t.timeout === 'function') t.timeout(caseMs);
  };
  const path = loader.app.path ?? '/';

  describe(`loader contract (docs/protocols.md): ${loader.name}`, () => {
    test('greets first, then answers Ready with a well-formed socket line, ignoring unknown handshake keys', async () => {
      await withLoader(async (run) => {
        assert.equal(run.controlLines[0], 'I have control 1.0', 'the first control line');
        assert.equal(run.controlLines[1], 'Ready', 'the status line after the handshake');
        for (const s of run.sockets) {
          assert.match(s.name, /^[^;\s]+$/, `the socket name in "${s.raw}"`);
          if (s.address.startsWith('unix:')) {
            const file = s.address.slice('unix:'.length);
            assert.ok(isAbsolute(file), `a unix: address is an absolute path ("${s.raw}")`);
            assert.equal(dirname(file), run.socketDir, `the socket is in the socket_dir it was given ("${s.raw}")`);
          } else {
            assert.match(s.address, /^tcp:\/\/(127\.0\.0\.1|\[::1\]):\d+$/, `the address is unix:/path or tcp:// on loopback ("${s.raw}")`);
          }
          assert.ok(Number.isInteger(s.concurrency) && s.concurrency >= 0, `the concurrency is an integer >= 0 ("${s.raw}")`);
        }
        assert.equal(run.sockets[0]!.protocol, loader.protocol, `the protocol of "${run.sockets[0]!.raw}"`);
      });
    });

    test(`serves GET ${path} with a complete, well-framed HTTP/1.1 response`, async () => {
      await withLoader(async (run) => {
        const res = await run.request({ path });
        assert.ok(res.status >= 200 && res.status < 300, `GET ${path} answered ${res.status}; the loader's output:\n${run.output.join('\n')}`);
      });
    });

    test('answers HEAD with the head only, no body', async () => {
      await withLoader(async (run) => {
        const res = await run.request({ method: 'HEAD', path });
        assert.ok(res.status >= 200 && res.status < 300, `HEAD ${path} answered ${res.status}`);
        assert.equal(res.raw.length - res.raw.indexOf('\r\n\r\n') - 4, 0, 'bytes after the head of a HEAD response');
      });
    });

    test('serves requests one after another, and a request body', async () => {
      await withLoader(async (run) => {
        for (let i = 0; i < 3; i++) assert.ok((await run.request({ path })).status < 300, `request ${i + 1}`);
        const posted = await run.request({ method: 'POST', path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' });
        assert.ok(posted.status >= 200 && posted.status < 600, `POST ${path} answered ${posted.status}`);
      });
    });

    if (loader.protocol === 'session' && !loader.client) {
      test('closes a session connection with a wrong password without answering, then serves the next one', async () => {
        await withLoader(async (run) => {
          const bytes = await run.sessionBytes({ REQUEST_METHOD: 'GET', REQUEST_URI: path, PATH_INFO: path, SCRIPT_NAME: '', QUERY_STRING: '' }, 'not-the-password');
          assert.equal(bytes.length, 0, `answered a wrong password with ${JSON.stringify(bytes.toString('latin1').slice(0, 100))}`);
          assert.ok((await run.request({ path })).status < 300, 'the next request, with the password');
        });
      });
    }

    test('exits 0 after the shutdown byte on stdin, leaving no process behind', async () => {
      const run = await start();
      assert.ok((await run.request({ path })).status < 300);
      const { code, signal } = await run.stop('byte');
      assert.equal(signal, null, 'the loader had to be killed: it did not exit within 10 s of the shutdown byte');
      assert.equal(code, 0, 'exit code after the shutdown byte');
    });

    test('exits when stdin reaches EOF (how app processes die with a core that was killed)', async () => {
      const run = await start();
      const { signal } = await run.stop('eof');
      assert.notEqual(signal, 'SIGKILL', 'the loader had to be killed: it did not exit within 10 s of EOF on stdin');
    });

    if (loader.brokenApp) {
      const broken = loader.brokenApp;
      test('reports an app that fails to load in an "!> Error" block with a summary, then exits', async () => {
        let failure: LoaderFailedError | undefined;
        try {
          const run = await start(broken);
          await run.stop();
        } catch (e) {
          if (!(e instanceof LoaderFailedError)) throw e;
          failure = e;
        }
        assert.ok(failure, `the loader answered Ready for the broken app ${broken.startupFile}`);
        assert.ok((failure.failure.error.summary ?? '').trim() !== '', `the Error block has no summary: ${JSON.stringify(failure.failure.error)}`);
        assert.ok(failure.failure.exited, 'the loader did not exit within 5 s of reporting the error');
      });
    }
  });
}
