// The plugin's own tests, with passenger-ts/testing: the real server on the
// fixture app in test/fixture, real requests, and a check at each stop that
// no process the server started is left behind.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { runPassenger, startServer } from 'passenger-ts/testing';

const plugin = fileURLToPath(new URL('..', import.meta.url));
const app = fileURLToPath(new URL('./fixture', import.meta.url));

describe('__PACKAGE__', () => {
  /** @type {import('passenger-ts/testing').TestServer | undefined} */
  let server;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('serves the fixture app', async () => {
    server = await startServer(app, { plugins: [plugin] });
    const res = await server.fetch('/some/path?x=1');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from __NAME__ on /some/path?x=1\n');
  });

  it('is what passenger detect finds, with the interpreter and why', async () => {
    const { code, stdout, stderr } = await runPassenger(['detect', app, '--plugins', plugin + 'index.js']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /__DISPLAY__/);
    assert.match(stdout, /default \(no __OPTION__ option\)/);
  });

  it('leaves no app process behind when the server is killed', async () => {
    server = await startServer(app, { plugins: [plugin] });
    assert.equal((await server.fetch('/')).status, 200);
    const { signal } = await server.stop('SIGKILL');
    assert.equal(signal, 'SIGKILL');
  });
});
