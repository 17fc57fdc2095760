// The metrics listener with a real Rack app: /metrics counts what a known
// load did (deltas between two scrapes), promtool accepts the output,
// /healthz and /readyz answer, and /readyz flips to 503 as soon as a
// graceful stop begins while the request in flight still completes.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { metricsPort, promtoolCheck, scrape, scrapeUntil, value, type Scrape } from './metrics-helpers.ts';

const RACK_APP = {
  'config.ru': `
run lambda { |env|
  params = Rack::Utils.parse_query(env['QUERY_STRING'])
  case env['PATH_INFO']
  when '/status' then [params['code'].to_i, { 'content-type' => 'text/plain' }, ["status #{params['code']}\\n"]]
  when '/sleep'
    sleep(params.fetch('s', '0.2').to_f)
    [200, { 'content-type' => 'text/plain' }, ["slept\\n"]]
  else [200, { 'content-type' => 'text/plain' }, ["#{Process.pid}\\n"]]
  end
}
`,
};

async function get(url: string, init?: RequestInit): Promise<{ status: number; body: string }> {
  const r = await fetch(url, init);
  return { status: r.status, body: await r.text() };
}

/** GETs url until it answers 200 (a 504 from a queue timeout during the first spawn is retried). */
async function waitForOk(url: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { status } = await get(url);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} still answers ${status} after ${withinMs} ms`);
  }
}

const series = (name: string, labels: string) => `${name}{${labels}}`;

describe('metrics listener (metrics_address)', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
    removeApps();
  });

  async function start(args: string[] = []): Promise<{ base: string; app: string }> {
    const port = await metricsPort();
    const dir = makeApp(RACK_APP);
    p = await startPassenger(dir, { args: ['--metrics-address', `127.0.0.1:${port}`, '--app-name', 'shop', ...args] });
    await p.waitForOutput(new RegExp(`metrics on http://127\\.0\\.0\\.1:${port}/metrics`));
    return { base: `http://127.0.0.1:${port}`, app: 'shop' };
  }

  it('counts requests by status class, a full queue as queue_full, too large a body as body_too_large', async () => {
    const { base } = await start(['--max-instances', '1', '--max-request-queue-size', '1', '--max-body-size', '100']);
    expect((await get(`${p!.url}/`)).status).to.equal(200); // the process is up
    const before = await scrape(base);
    for (let i = 0; i < 3; i++) expect((await get(`${p!.url}/`)).status).to.equal(200);
    expect((await get(`${p!.url}/status?code=404`)).status).to.equal(404);
    expect((await get(`${p!.url}/status?code=302`, { redirect: 'manual' })).status).to.equal(302);
    // One process, one queue slot: of four concurrent requests one is served, one waits, two are refused.
    const burst = await Promise.all([0, 1, 2, 3].map(() => get(`${p!.url}/sleep?s=0.5`)));
    const refused = burst.filter((r) => r.status === 503).length;
    expect(refused).to.equal(2);
    expect((await get(`${p!.url}/`, { method: 'POST', body: 'x'.repeat(500) })).status).to.equal(413);
    const after = await scrape(base);
    const delta = (s: string) => value(after, s) - value(before, s);
    expect(delta(series('passenger_requests_total', 'app="shop",status_class="2xx"'))).to.equal(5);
    expect(delta(series('passenger_requests_total', 'app="shop",status_class="3xx"'))).to.equal(1);
    expect(delta(series('passenger_requests_total', 'app="shop",status_class="4xx"'))).to.equal(2);
    expect(delta(series('passenger_requests_total', 'app="shop",status_class="5xx"'))).to.equal(2);
    expect(delta(series('passenger_request_rejections_total', 'app="shop",reason="queue_full"'))).to.equal(2);
    expect(delta(series('passenger_request_rejections_total', 'app="shop",reason="body_too_large"'))).to.equal(1);
    expect(delta(series('passenger_request_rejections_total', 'app="shop",reason="queue_timeout"'))).to.equal(0);
    expect(delta('passenger_request_duration_seconds_count{app="shop"}')).to.equal(10);
    // The one that waited for the busy process spent about the sleep in the queue.
    expect(delta('passenger_request_queue_seconds_sum{app="shop"}')).to.be.above(0.3);
    expect(value(after, 'passenger_requests_in_flight{app="shop"}')).to.equal(0);
    expect(value(after, 'passenger_request_queue_length{app="shop"}')).to.equal(0);
    expect(value(after, 'passenger_processes{app="shop",state="enabled"}')).to.equal(1);
    expect(value(after, 'passenger_build_info{version="0.1.0"}')).to.equal(1);
    expect(value(after, 'passenger_core_restarts_total')).to.equal(0);
    expect(after.has('process_cpu_user_seconds_total')).to.equal(true);
  });

  it('counts queue_timeout and request_timeout rejections, and the stuck process\'s exit as max_request_time', async () => {
    const { base } = await start(['--max-instances', '1', '--request-queue-timeout', '0.5', '--max-request-time', '2.5']);
    // Warm up: on a loaded machine the first spawn can outlast request_queue_timeout; the deltas below start after it.
    await waitForOk(`${p!.url}/`, 30_000);
    const before = await scrape(base);
    // The first holds the only process past max_request_time; the second waits longer than request_queue_timeout.
    const stuck = get(`${p!.url}/sleep?s=8`);
    await scrapeUntil(base, (s) => value(s, 'passenger_requests_in_flight{app="shop"}') === 1, 5000);
    expect((await get(`${p!.url}/`)).status).to.equal(504);
    expect((await stuck).status).to.equal(504);
    const after = await scrapeUntil(base, (s) => value(s, 'passenger_process_exits_total{app="shop",reason="max_request_time"}') === 1);
    const delta = (s: string) => value(after, s) - value(before, s);
    expect(delta(series('passenger_request_rejections_total', 'app="shop",reason="queue_timeout"'))).to.equal(1);
    expect(delta(series('passenger_request_rejections_total', 'app="shop",reason="request_timeout"'))).to.equal(1);
    expect(delta(series('passenger_requests_total', 'app="shop",status_class="5xx"'))).to.equal(2);
    expect(value(after, 'passenger_process_exits_total{app="shop",reason="crash"}')).to.equal(0);
  });

  it('counts a kill -9 of an app process as a crash exit and its replacement as a spawn', async () => {
    const { base } = await start(['--min-instances', '1', '--max-instances', '1']);
    const pid = Number((await get(`${p!.url}/`)).body);
    // The pool measures processes every 2 s: memory and CPU appear per pid.
    const before = await scrapeUntil(base, (s) => value(s, `passenger_process_memory_bytes{app="shop",pid="${pid}"}`) > 1e6);
    expect(before.has(`passenger_process_cpu_seconds_total{app="shop",pid="${pid}"}`)).to.equal(true);
    const spawnsBefore = [...before].filter(([k]) => k.startsWith('passenger_process_spawns_total{app="shop"') && k.includes('outcome="success"')).reduce((a, [, v]) => a + v, 0);
    expect(spawnsBefore).to.equal(1);
    process.kill(pid, 'SIGKILL');
    const after = await scrapeUntil(base, (s) => value(s, 'passenger_process_exits_total{app="shop",reason="crash"}') === 1
      && value(s, 'passenger_processes{app="shop",state="enabled"}') === 1);
    const spawnsAfter = [...after].filter(([k]) => k.startsWith('passenger_process_spawns_total{app="shop"') && k.includes('outcome="success"')).reduce((a, [, v]) => a + v, 0);
    expect(spawnsAfter).to.equal(2);
    expect(value(after, 'passenger_process_exits_total{app="shop",reason="shutdown"}')).to.equal(0);
    expect(after.has(`passenger_process_memory_bytes{app="shop",pid="${pid}"}`)).to.equal(false);
    expect((await get(`${p!.url}/`)).body).to.not.equal(`${pid}\n`);
  });

  it('serves output that promtool accepts, and OpenMetrics when asked', async () => {
    const { base } = await start();
    await get(`${p!.url}/`);
    const text = await (await fetch(`${base}/metrics`)).text();
    const check = await promtoolCheck(text);
    expect(check.output).to.equal('');
    expect(check.code).to.equal(0);
    for (const name of ['passenger_requests_total', 'passenger_request_duration_seconds', 'passenger_request_queue_seconds', 'passenger_requests_in_flight',
      'passenger_request_queue_length', 'passenger_request_rejections_total', 'passenger_processes', 'passenger_process_spawns_total',
      'passenger_process_spawn_duration_seconds', 'passenger_process_exits_total', 'passenger_process_memory_bytes', 'passenger_process_cpu_seconds_total',
      'passenger_core_restarts_total', 'passenger_build_info']) {
      expect(text).to.include(`# TYPE ${name} `);
    }
    const om = await fetch(`${base}/metrics`, { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(om.headers.get('content-type')).to.match(/^application\/openmetrics-text; version=1\.0\.0/);
    const omText = await om.text();
    expect(omText.endsWith('# EOF\n')).to.equal(true);
    // OpenMetrics names the counter family without _total and its samples with it.
    expect(omText).to.include('# TYPE passenger_requests counter');
    expect(omText).to.match(/^passenger_requests_total\{app="shop",status_class="2xx"\} 1$/m);
    // And the Prometheus format is unchanged after an OpenMetrics scrape.
    expect(await (await fetch(`${base}/metrics`)).text()).to.include('# TYPE passenger_requests_total counter');
  });

  it('answers /healthz, and /readyz 503 once a graceful stop begins while the request in flight completes', async () => {
    const { base } = await start(['--shutdown-timeout', '20']);
    expect((await get(`${p!.url}/`)).status).to.equal(200);
    expect(await get(`${base}/healthz`)).to.deep.equal({ status: 200, body: '{"status":"ok"}\n' });
    const ready = await get(`${base}/readyz`);
    expect(ready.status).to.equal(200);
    expect(JSON.parse(ready.body)).to.deep.include({ ready: true });
    const slow = get(`${p!.url}/sleep?s=2.5`);
    await scrapeUntil(base, (s) => value(s, 'passenger_requests_in_flight{app="shop"}') === 1, 5000);
    const stopped = p!.stop('SIGTERM');
    let answer = await get(`${base}/readyz`);
    for (const until = Date.now() + 2000; answer.status === 200 && Date.now() < until;) {
      await new Promise((r) => setTimeout(r, 50));
      answer = await get(`${base}/readyz`);
    }
    expect(answer.status).to.equal(503);
    expect(JSON.parse(answer.body)).to.deep.include({ ready: false, reason: 'the server is stopping' });
    expect(await get(`${base}/healthz`)).to.deep.equal({ status: 200, body: '{"status":"ok"}\n' });
    expect(await slow).to.deep.equal({ status: 200, body: 'slept\n' });
    expect(await stopped).to.equal(0);
  });

  it('says not ready, with the reason, while an app cannot start', async () => {
    const port = await metricsPort();
    const dir = makeApp({ 'config.ru': 'raise "no database configured"\n' });
    p = await startPassenger(dir, { args: ['--metrics-address', `127.0.0.1:${port}`, '--app-name', 'broken'] });
    const base = `http://127.0.0.1:${port}`;
    expect((await get(`${p.url}/`)).status).to.equal(500);
    const r = await get(`${base}/readyz`);
    expect(r.status).to.equal(503);
    const body = JSON.parse(r.body) as { ready: boolean; reason: string };
    expect(body.ready).to.equal(false);
    expect(body.reason).to.match(/^broken: the app cannot start \(error [0-9a-f]+\)$/);
    const s = await scrape(base);
    expect([...s].filter(([k]) => k.startsWith('passenger_process_spawns_total{app="broken"') && k.includes('outcome="failure"')).reduce((a, [, v]) => a + v, 0)).to.be.at.least(1);
  });

  it('counts core restarts by the watchdog, and serves metrics again from the new core', async () => {
    const { base } = await start();
    expect(value(await scrape(base), 'passenger_core_restarts_total')).to.equal(0);
    const props = JSON.parse(readFileSync(join(p!.registryDir, p!.instanceDirs()[0]!, 'properties.json'), 'utf8')) as { corePid: number };
    process.kill(props.corePid, 'SIGKILL');
    await p!.waitForOutput(/core restarted \(pid \d+\) and serving again/, 20000);
    const after = await scrapeUntil(base, (s) => value(s, 'passenger_core_restarts_total') === 1, 10000);
    expect(value(after, 'passenger_build_info{version="0.1.0"}')).to.equal(1);
  });

  it('rejects a malformed metrics_address with an error naming the option', async () => {
    const dir = makeApp(RACK_APP);
    p = await startPassenger(dir, { args: ['--metrics-address', 'localhost'], expectExit: true });
    expect(p.output()).to.match(/metrics_address: expected host:port/);
    expect(p.child.exitCode).to.not.equal(0);
  });
});
