// Logs operators expect (docs/logging.md): the access log as JSON (every
// field) and as combined lines, X-Request-Id kept or made up, the server's log
// as JSON lines, the app's output in app_log_file, a logrotate-style rename
// followed by `passenger reload` (SIGHUP) losing no line, and one short line
// per request in the terminal in development.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { httpGet } from '../support/http-get.ts';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

const nodeApp = fixtureApp('node-basic');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// NCSA combined, then the server's fields.
const COMBINED = /^(\S+) - - \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000)\] "(\S+) (\S+) (HTTP\/1\.[01])" (\d{3}) (\d+) "([^"]*)" "([^"]*)" request_id=(\S+) app="([^"]+)" pid=(\d+) duration_ms=(\d+\.\d{3}) queue_ms=(\d+\.\d{3})( trace_id=[0-9a-f]{32})?$/;

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

async function waitForLines(file: string, count: number, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = lines(file);
    if (got.length >= count || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; requestId: string | null }> {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.text(), requestId: r.headers.get('x-request-id') };
}

describe('logs', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'psg-logs-')); });
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
    rmSync(dir, { recursive: true, force: true });
    removeApps();
  });

  it('writes the access log as JSON lines, every field present and right, secret query values masked', async () => {
    const log = join(dir, 'access.json');
    p = await startPassenger(nodeApp, { args: ['--access-log', log, '--access-log-format', 'json', '--trace-context'] });
    const first = await get(`${p.url}/headers?api_token=s3cretVALUE42&page=2`, { 'User-Agent': 'spec "agent"', Referer: 'http://ref.example/' });
    const served = JSON.parse(first.body) as { pid: number; headers: Record<string, string> };
    const [line] = await waitForLines(log, 1);
    expect(line, 'no access line').to.be.a('string');
    expect(line).not.to.include('s3cretVALUE42');
    const e = JSON.parse(line!) as Record<string, unknown>;
    expect(Object.keys(e).sort()).to.deep.equal(['app', 'bytes', 'duration_ms', 'method', 'pid', 'protocol', 'queue_ms', 'referer', 'remote_addr', 'request_id',
      'status', 'time', 'trace_id', 'url', 'user_agent'].sort());
    expect(Date.parse(e.time as string)).to.be.closeTo(Date.now(), 60000);
    expect(e.remote_addr).to.equal('127.0.0.1');
    expect(e.method).to.equal('GET');
    expect(e.url).to.equal('/headers?api_token=••••••&page=2');
    expect(e.protocol).to.equal('HTTP/1.1');
    expect(e.status).to.equal(200);
    expect(e.bytes).to.equal(Buffer.byteLength(first.body));
    expect(e.referer).to.equal('http://ref.example/');
    expect(e.user_agent).to.equal('spec "agent"');
    expect(e.request_id).to.match(UUID).and.equal(first.requestId).and.equal(served.headers['x-request-id']);
    expect(e.app).to.equal('node-basic');
    expect(e.pid).to.equal(served.pid);
    expect(e.duration_ms).to.be.a('number').and.be.at.least(0).and.below(30000);
    expect(e.queue_ms).to.be.a('number').and.be.at.least(0).and.at.most(e.duration_ms as number);
    expect(e.trace_id).to.equal(served.headers.traceparent!.split('-')[1]);
  });

  it('writes combined lines that a log analyzer parses, with the request id, app, pid, duration and queue time appended', async () => {
    const log = join(dir, 'access.log');
    p = await startPassenger(nodeApp, { args: ['--access-log', log] });
    const r = await get(`${p.url}/some/path?password=hunter2hunter2`, { 'User-Agent': 'curl-ish/1.0' });
    const served = await get(`${p.url}/headers`);
    const pid = (JSON.parse(served.body) as { pid: number }).pid;
    const got = await waitForLines(log, 2);
    expect(got).to.have.length(2);
    const m = COMBINED.exec(got[0]!);
    expect(m, got[0]).to.not.equal(null);
    const [, addr, , method, target, proto, status, bytes, referer, agent, rid, app, linePid] = m!;
    expect([addr, method, target, proto, status, bytes, referer, agent]).to.deep.equal(['127.0.0.1', 'GET', '/some/path?password=••••••', 'HTTP/1.1', '200', String(Buffer.byteLength(r.body)), '-', 'curl-ish/1.0']);
    expect(rid).to.equal(r.requestId);
    expect(app).to.equal('node-basic');
    expect(Number(linePid)).to.equal(pid);
    expect(got.join('\n')).not.to.include('hunter2');
  });

  it('logs the static files the server sends itself, with their size', async () => {
    const log = join(dir, 'access.json');
    const app = makeApp({
      'package.json': '{"name":"static-log","main":"app.js"}',
      'app.js': "require('http').createServer((q, s) => s.end('app')).listen(process.env.PORT || 3000);",
      'public/site.css': 'body{}\n',
    });
    p = await startPassenger(app, { args: ['--access-log', log, '--access-log-format', 'json'] });
    const css = await httpGet(`${p.url}/site.css`);
    expect(css.body.toString()).to.equal('body{}\n');
    const again = await httpGet(`${p.url}/site.css`, { 'If-None-Match': css.headers.etag! });
    expect(again.status).to.equal(304);
    const got = (await waitForLines(log, 2)).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(got.map((e) => [e.url, e.status, e.bytes, e.pid, e.queue_ms, e.app])).to.deep.equal([
      ['/site.css', 200, 7, null, null, basename(app)],
      ['/site.css', 304, 0, null, null, basename(app)],
    ]);
  });

  it('keeps a well-formed X-Request-Id from a trusted proxy, and replaces it from any other client', async () => {
    p = await startPassenger(nodeApp, { args: ['--access-log', 'off'] });
    const kept = await get(`${p.url}/headers`, { 'X-Request-Id': 'lb-7f3a.42' });
    expect(kept.requestId).to.equal('lb-7f3a.42');
    expect((JSON.parse(kept.body) as { headers: Record<string, string> }).headers['x-request-id']).to.equal('lb-7f3a.42');
    const malformed = await get(`${p.url}/headers`, { 'X-Request-Id': 'has spaces <and> markup' });
    expect(malformed.requestId).to.match(UUID);
    expect((JSON.parse(malformed.body) as { headers: Record<string, string> }).headers['x-request-id']).to.equal(malformed.requestId);
    const made = await get(`${p.url}/headers`);
    expect(made.requestId).to.match(UUID).and.not.equal(malformed.requestId);
    await stopAndClean(p);
    // Loopback no longer counts as a proxy: the spec's own requests are "any other client".
    p = await startPassenger(nodeApp, { args: ['--trusted-proxies', '10.0.0.0/8'] });
    const forged = await get(`${p.url}/headers`, { 'X-Request-Id': 'forged-by-client' });
    expect(forged.requestId).to.match(UUID);
    expect((JSON.parse(forged.body) as { headers: Record<string, string> }).headers['x-request-id']).to.equal(forged.requestId);
  });

  it('with request_id off, adds no X-Request-Id', async () => {
    p = await startPassenger(nodeApp, { args: ['--no-request-id'] });
    const r = await get(`${p.url}/headers`);
    expect(r.requestId).to.equal(null);
    expect((JSON.parse(r.body) as { headers: Record<string, string> }).headers).not.to.have.property('x-request-id');
  });

  it("writes the server's own log as JSON lines, and the app's output to app_log_file only", async () => {
    const serverLog = join(dir, 'passenger.log');
    const appLog = join(dir, 'app.log');
    p = await startPassenger(nodeApp, { args: ['--log-file', serverLog, '--log-format', 'json', '--app-log-file', appLog, '--access-log', 'off'] });
    await get(p.url);
    const appLines = await waitForLines(appLog, 1);
    expect(appLines).to.include.members(['[node-basic ' + (JSON.parse((await get(`${p.url}/headers`)).body) as { pid: number }).pid + '] node-basic listening']);
    expect(p.output()).not.to.include('node-basic listening');
    const server = await waitForLines(serverLog, 3);
    expect(server.length).to.be.at.least(3);
    for (const l of server) {
      const e = JSON.parse(l) as Record<string, unknown>;
      expect(Object.keys(e)).to.include.members(['time', 'level', 'pid', 'msg']);
      expect(Date.parse(e.time as string), l).to.not.be.NaN;
      expect(['error', 'warn', 'info', 'debug']).to.include(e.level);
      expect(e.pid).to.be.a('number');
      expect(e.msg).to.be.a('string');
    }
    expect(server.some((l) => (JSON.parse(l) as { msg: string }).msg.startsWith('serving '))).to.equal(true);
    expect(server.join('\n')).not.to.include('node-basic listening');
  });

  it('after a logrotate-style rename and passenger reload, new lines go to new files and no line is lost', async () => {
    const access = join(dir, 'access.log');
    const serverLog = join(dir, 'passenger.log');
    const appLog = join(dir, 'app.log');
    p = await startPassenger(nodeApp, { args: ['--access-log', access, '--log-file', serverLog, '--app-log-file', appLog] });
    const ids: string[] = [];
    const burst = async (n: number) => {
      const rs = await Promise.all(Array.from({ length: n }, () => get(`${p!.url}/`)));
      for (const r of rs) ids.push(r.requestId!);
    };
    await burst(10);
    await waitForLines(access, 10);
    renameSync(access, `${access}.1`);
    renameSync(serverLog, `${serverLog}.1`);
    renameSync(appLog, `${appLog}.1`);
    // Until the reload, lines keep going to the renamed files (as with nginx).
    await burst(5);
    await waitForLines(`${access}.1`, 15);
    const env = { ...process.env };
    const reload = await passengerCommand(['reload', '--instance-registry-dir', p.registryDir], env);
    expect(reload.code, reload.stderr).to.equal(0);
    expect(reload.stdout).to.match(/sent SIGHUP to instance/);
    await waitForLines(serverLog, 1);
    await burst(10);
    const fresh = await waitForLines(access, 10);
    const old = lines(`${access}.1`);
    expect(old).to.have.length(15);
    expect(fresh).to.have.length(10);
    const logged = [...old, ...fresh].map((l) => /request_id=(\S+)/.exec(l)![1]);
    expect(logged.sort()).to.deep.equal([...ids].sort());
    expect(fresh.map((l) => /request_id=(\S+)/.exec(l)![1]).sort()).to.deep.equal(ids.slice(15).sort());
    // The server's own log was reopened too: its reload lines are in the new file.
    expect(lines(serverLog).join('\n')).to.match(/reloaded/);
    expect(lines(`${serverLog}.1`).join('\n')).to.match(/serving /);
    // And the app's file: a new process's output goes to the new one.
    const restart = await passengerCommand(['restart-app', nodeApp, '--instance-registry-dir', p.registryDir], env);
    expect(restart.code, restart.stderr).to.equal(0);
    expect((await waitForLines(appLog, 1, 15000)).join('\n')).to.include('node-basic listening');
  });

  it('prints one short line per request in the terminal in development, and none in production', async () => {
    p = await startPassenger(nodeApp);
    const r = await get(`${p.url}/dev-line?token=abcdef123456`);
    const pid = Number(/hello from node (\d+)/.exec(r.body)![1]);
    const line = await p.waitForOutput(/\[passenger\] \[node-basic \d+\] GET \/dev-line\S* \d+ \d+ B [\d.]+ ms/);
    expect(line).to.equal(`[passenger] [node-basic ${pid}] GET /dev-line?token=•••••• 200 ${Buffer.byteLength(r.body)} B ${/([\d.]+) ms$/.exec(line)![1]} ms`);
    expect(p.output()).not.to.include('abcdef123456');
    await stopAndClean(p);
    p = await startPassenger(nodeApp, { args: ['--environment', 'production'] });
    await get(`${p.url}/prod-line`);
    await get(`${p.url}/prod-line`);
    await new Promise((r) => setTimeout(r, 300));
    expect(p.output()).not.to.include('/prod-line');
  });

  it("masks secret query values in the server's own lines about a request", async () => {
    p = await startPassenger(fixtureApp('broken-node-missing-module'), { args: ['--environment', 'production'] });
    const r = await get(`${p.url}/login?reset_token=Zq8vLm3xWp7r&next=/home`);
    expect(r.status).to.equal(500);
    const line = await p.waitForOutput(/GET \/login\S*: .*/);
    expect(line).to.include('/login?reset_token=••••••&next=/home');
    expect(p.output()).not.to.include('Zq8vLm3xWp7r');
  });

  it('refuses a log file it cannot open, naming the option and the file', async () => {
    p = await startPassenger(nodeApp, { args: ['--access-log', join(dir, 'missing-dir/access.log')], expectExit: true });
    expect(p.child.exitCode).to.not.equal(0);
    expect(p.output()).to.match(/access_log: cannot open \S+missing-dir\/access\.log for appending: its directory does not exist/);
  });
});
