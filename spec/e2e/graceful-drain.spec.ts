// The graceful stop of one instance (issue 18, item 2): on SIGTERM /readyz
// turns 503 at once while requests are still served for drain_delay, on
// kept-alive connections as before (so clients that keep sending open no
// new connections that the listener's close could reset); after the pause,
// the next answer on each connection closes it (Connection: close); a
// second signal cuts the pause short and says so; Ctrl-C (SIGINT) skips
// it; a SIGTERM while the server is still starting up is handled, not fatal.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { properties } from '../core/admin/instance-helpers.ts';

const APP = `require('http').createServer((req, res) => res.end('up ' + process.pid)).listen(3000);\n`;
// A plugin that takes 4 s to load: the server is "starting up" that long. It says when it begins.
const SLOW_PLUGIN = `import { writeFileSync } from 'node:fs';
writeFileSync(new URL('./loading', import.meta.url), '');
await new Promise((r) => setTimeout(r, 4000));
export default () => ({ name: 'slow-start', apiVersion: 2, apply() {} });
`;

function getOn(agent: http.Agent, url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

describe('graceful drain (drain_delay)', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  let app: string;

  before(() => {
    app = makeApp({ 'app.js': APP });
  });
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
  });
  after(() => removeApps());

  it('on SIGTERM: /readyz 503 at once, requests still served for drain_delay on kept-alive connections, then exit 0', async () => {
    p = await startPassenger(app, { args: ['--drain-delay', '3', '--metrics-address', '127.0.0.1:0'] });
    const metricsUrl = (await p.waitForOutput(/metrics on http:\/\/[^/]+/)).replace('metrics on ', '');
    expect((await fetch(`${metricsUrl}/readyz`)).status).to.equal(200);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const first = await getOn(agent, `${p.url}/`);
    expect(first.headers.connection).to.equal('keep-alive');
    const exited = p.stop('SIGTERM');
    await p.waitForOutput(/draining: \/readyz answers 503, still serving for drain_delay \(3 s\)/);
    const ready = await fetch(`${metricsUrl}/readyz`);
    expect(ready.status).to.equal(503);
    expect(await ready.json()).to.include({ ready: false, reason: 'the server is stopping' });
    // Kept alive during the pause: a client that keeps sending reuses its connection instead of opening new ones.
    const during = await getOn(agent, `${p.url}/`);
    expect(during.status).to.equal(200);
    expect(during.headers.connection).to.equal('keep-alive');
    const fresh = await fetch(`${p.url}/`);
    expect(fresh.status).to.equal(200);
    expect(fresh.headers.get('connection')).to.equal('keep-alive');
    agent.destroy();
    expect(await exited).to.equal(0);
    expect(p.output()).to.not.include('cutting the drain pause short');
  });

  it('after the pause, an idle keep-alive connection is left to its client: a request it sends then is still answered, with Connection: close', async () => {
    // A load balancer cannot retry a POST sent on a connection the server closes at that moment: the server must not close idle ones itself.
    p = await startPassenger(app, { args: ['--drain-delay', '1'] });
    const socket = net.connect(p.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => { received += d; });
    const ended = new Promise<void>((r) => { socket.once('close', () => r()); });
    socket.on('error', () => { /* seen as a missing answer below */ });
    const request = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nx=1';
    socket.write(request);
    const deadline = Date.now() + 10000;
    while (!/\r\n\r\nup \d+$/.test(received) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(received).to.match(/^HTTP\/1\.1 200/).and.match(/Connection: keep-alive/i);
    received = '';
    const exited = p.stop('SIGTERM');
    await p.waitForOutput(/still serving for drain_delay \(1 s\)/);
    // Past the pause: the listener is closed, and this connection has been idle all along.
    await new Promise((r) => setTimeout(r, 1800));
    if (!socket.destroyed) socket.write(request);
    await Promise.race([ended, new Promise((r) => setTimeout(r, 8000))]);
    socket.destroy();
    expect(received, 'an answer on the idle connection after the pause').to.match(/^HTTP\/1\.1 200/);
    expect(received).to.match(/Connection: close/i);
    expect(await exited).to.equal(0);
  });

  it('in production the pause is 5 s by default; a second SIGTERM cuts it short and says so', async () => {
    p = await startPassenger(app, { args: ['--environment', 'production'] });
    const exited = p.stop('SIGTERM');
    await p.waitForOutput(/still serving for drain_delay \(5 s\)/);
    p.child.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(p.output()).to.match(/SIGTERM again: cutting the drain pause short/);
  });

  it('a SIGTERM to the whole process group (kill -- -PGID, supervisord stopasgroup, tini -g) is one stop: the core hears it twice, and the pause is not cut short', async () => {
    p = await startPassenger(app, { args: ['--drain-delay', '2'], detached: true });
    const corePid = properties(p).corePid!;
    const exited = new Promise<number | null>((r) => p!.child.once('exit', (code) => r(code)));
    const signalledAt = Date.now();
    process.kill(-p.child.pid!, 'SIGTERM');
    await p.waitForOutput(/still serving for drain_delay \(2 s\)/);
    // The kernel may merge the direct and the forwarded signal into one; this one arrives apart, as they often do.
    process.kill(corePid, 'SIGTERM');
    expect(await exited).to.equal(0);
    expect(Date.now() - signalledAt, 'the stop took the whole pause').to.be.at.least(1900);
    expect(p.output()).to.not.include('cutting the drain pause short');
  });

  it('a second SIGTERM before the core reports its drain pause cuts the pause short instead of killing the core', async () => {
    p = await startPassenger(app, { args: ['--drain-delay', '600'] });
    const corePid = properties(p).corePid!;
    // Hold the core still, so the watchdog handles both signals before the core can say it pauses.
    process.kill(corePid, 'SIGSTOP');
    const exited = p.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    p.child.kill('SIGTERM');
    await p.waitForOutput(/SIGTERM again: cutting the drain pause short/);
    process.kill(corePid, 'SIGCONT');
    expect(await exited).to.equal(0);
    // The core lived to the end of a graceful stop, without its pause.
    expect(p.output()).to.match(/stopping \(SIGTERM\): finishing in-flight requests/);
    expect(p.output()).to.not.match(/exited unexpectedly/);
  });

  it('Ctrl-C (SIGINT) skips the pause, however long drain_delay is', async () => {
    p = await startPassenger(app, { args: ['--drain-delay', '600'] });
    expect(await p.stop('SIGINT')).to.equal(0);
    expect(p.output()).to.include('stopping (SIGINT)');
    expect(p.output()).to.not.include('draining:');
  });

  it('a SIGTERM while the server starts up (a plugin still loading) stops it cleanly', async () => {
    const slowApp = makeApp({ 'app.js': APP, 'slow-start.mjs': SLOW_PLUGIN, 'Passengerfile.json': JSON.stringify({ plugins: ['./slow-start.mjs'] }) });
    p = await startPassenger(slowApp, { noWait: true });
    // While the CLI loads the plugin (4 s more).
    const deadline = Date.now() + 20000;
    while (!existsSync(join(slowApp, 'loading'))) {
      if (Date.now() > deadline || p.child.exitCode !== null) throw new Error(`SIGTERM never caught:\n${p.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await p.stop('SIGTERM')).to.equal(0);
    expect(p.output()).to.include('stopping (SIGTERM during start-up)');
    expect(p.output()).to.not.match(/serving .* on http/);
    expect(p.instanceDirs()).to.deep.equal([]);
  });
});
