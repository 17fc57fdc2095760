// passenger-plugin-php's own spec, written against passenger-ts/testing only:
// the real server from the installed passenger-ts, the plugin loaded from this
// folder, real php-fpm. stop() fails the test if any process the server
// started (the loader, php-fpm's master and workers) outlives it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startServer, runPassenger } from 'passenger-ts/testing';

const pluginDir = fileURLToPath(new URL('..', import.meta.url));
const app = fileURLToPath(new URL('./fixture', import.meta.url));

/**
 * php-fpm's master and workers of the loaders the server runs. The test kit finds
 * the server's processes by a token in their environment, but php-fpm writes its
 * process titles over its environment: they are found by the loader's config
 * file in the master's title (`php-fpm: master process (.../php-fpm.<loader pid>.conf)`)
 * and by their parent.
 */
function phpFpmProcesses(loaderPids) {
  const procs = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') procs.push({ pid: Number(name), ppid: Number(fields[1]), cmd });
    } catch { /* gone meanwhile */ }
  }
  const masters = procs.filter((p) => p.cmd.startsWith('php-fpm: master process') && loaderPids.some((l) => p.cmd.includes(`php-fpm.${l}.conf`)));
  const masterPids = new Set(masters.map((m) => m.pid));
  return [...masters, ...procs.filter((p) => masterPids.has(p.ppid))];
}

const loaderPids = (server) => server.processes().filter((p) => p.command.includes('php-loader.js')).map((p) => p.pid);

describe('passenger-plugin-php', function () {
  this.timeout(60000);
  let server;
  afterEach(async () => { await server?.stop(); server = undefined; });

  it('serves the front controller through php-fpm, with `threads` workers per process', async () => {
    server = await startServer(app, { plugins: [pluginDir], options: { threads: 3 } });
    const res = await server.fetch('/');
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello from fpm-fcgi with /index.php');
    assert.match(server.output(), /\(fastcgi, concurrency 3\)/);
    const form = await server.fetch('/form', { method: 'POST', body: new URLSearchParams({ a: '1', b: 'two' }) });
    assert.deepEqual(await form.json(), { a: '1', b: 'two' });
    const missing = await server.fetch('/nowhere');
    assert.equal(missing.status, 404);
    // One master and its three workers run under the loader, and all of them stop with the server.
    const loaders = loaderPids(server);
    assert.equal(loaders.length, 1);
    const fpm = phpFpmProcesses(loaders);
    assert.equal(fpm.length, 4, JSON.stringify(fpm));
    const { code } = await server.stop();
    assert.equal(code, 0);
    assert.deepEqual(phpFpmProcesses(loaders), []);
  });

  it('leaves no php-fpm behind when the server is killed with SIGKILL', async () => {
    server = await startServer(app, { plugins: [pluginDir] });
    assert.equal((await server.fetch('/')).status, 200);
    const loaders = loaderPids(server);
    assert.equal(phpFpmProcesses(loaders).length, 2);
    const { signal } = await server.stop('SIGKILL');
    assert.equal(signal, 'SIGKILL');
    // stop() waited for the server's own processes; php-fpm follows its loader at once.
    const deadline = Date.now() + 10000;
    while (phpFpmProcesses(loaders).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(phpFpmProcesses(loaders), []);
  });

  it('takes php-fpm down with a loader killed by SIGKILL (php-fpm leaves the process group)', async () => {
    server = await startServer(app, { plugins: [pluginDir] });
    assert.equal((await server.fetch('/')).status, 200);
    const loaders = loaderPids(server);
    assert.equal(phpFpmProcesses(loaders).length, 2);
    process.kill(loaders[0], 'SIGKILL');
    const deadline = Date.now() + 15000;
    while (phpFpmProcesses(loaders).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(phpFpmProcesses(loaders), []);
    // The pool replaces the process; the app serves again.
    assert.equal((await server.fetch('/')).status, 200);
  });

  it('is what passenger detect finds', async () => {
    const { code, stdout } = await runPassenger(['detect', app, '--plugins', `${pluginDir}index.js`]);
    assert.equal(code, 0, stdout);
    assert.match(stdout, /PHP \(FastCGI\)/);
  });
});
