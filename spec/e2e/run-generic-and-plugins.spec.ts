// Generic apps (app_start_command), a third-party plugin, and apps that fail to start.
import { expect } from 'chai';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

describe('passenger run: generic apps and third-party plugins', function () {
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });

  it('runs any command that listens on $PORT (python -m http.server)', async () => {
    p = await startPassenger(fixtureApp('generic-python'));
    const r = await get(`${p.url}/index.html`);
    expect(r.status).to.equal(200);
    expect(r.body).to.equal("static file served by python's http.server\n");
  });

  it('serves an app type that only a third-party plugin from the app directory knows', async () => {
    p = await startPassenger(fixtureApp('thirdparty-hello'));
    expect((await get(`${p.url}/`)).body).to.equal('greetings from hello.txt via passenger-plugin-hello\n');
  });

  it('lets a third-party plugin option be set from the command line', async () => {
    p = await startPassenger(fixtureApp('thirdparty-hello'), { args: ['--hello-greeting', 'from a flag'] });
    expect((await get(`${p.url}/`)).body).to.equal('greetings from hello.txt from a flag\n');
  });
});

describe('passenger run: apps that cannot start', function () {
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });

  const cases: { app: string; status: number; summary: RegExp; output?: RegExp }[] = [
    { app: 'generic-exits', status: 500, summary: /exited with code 3 before it listened on port \d+ \(\$PORT\)/, output: /cannot start: missing DATABASE_URL/ },
    { app: 'generic-never-listens', status: 500, summary: /did not listen on port \d+ \(\$PORT\) within start_timeout \(1\.5 s\)/, output: /starting but never listening/ },
    { app: 'node-throws', status: 500, summary: /configuration is broken: no SECRET set/, output: /about to fail/ },
    { app: 'node-never-listens', status: 500, summary: /did not become ready within start_timeout \(1\.5 s\)/ },
  ];
  for (const c of cases) {
    it(`${c.app}: answers with the error report, logs it, and keeps running`, async () => {
      p = await startPassenger(fixtureApp(c.app));
      const r = await get(`${p.url}/`, { Accept: 'application/json' });
      expect(r.status).to.equal(c.status);
      const report = JSON.parse(r.body) as { summary: string; output: string[]; id: string; appRoot: string };
      expect(report.summary).to.match(c.summary);
      expect(report.appRoot).to.equal(fixtureApp(c.app));
      if (c.output) expect(report.output.join('\n')).to.match(c.output);
      await p.waitForOutput(new RegExp(`error ${report.id}`));
      // The core is still up and answers the next request (from the report kept during backoff).
      expect((await get(`${p.url}/`)).status).to.equal(c.status);
    });
  }

  it('names the error class for an app that throws while loading', async () => {
    p = await startPassenger(fixtureApp('node-throws'));
    const report = JSON.parse((await get(`${p.url}/`, { Accept: 'application/json' })).body) as { errorClass: string; detail: string };
    expect(report.errorClass).to.equal('TypeError');
    expect(report.detail).to.match(/node-throws\/app\.js:2/);
  });
});

describe('passenger run: configuration and detection errors stop start-up', function () {
  it('exits 2 and names the plugin when a configured plugin is missing', async () => {
    const r = await passengerCommand(['detect', fixtureApp('node-basic'), '--plugins', 'nonexistent-xyz']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/PSG_ERR_PLUGIN_NOT_FOUND: plugin "nonexistent-xyz" was not found: tried "passenger-plugin-nonexistent-xyz" and "nonexistent-xyz"/);
  });

  it('exits 2 for an unknown flag, suggesting the nearest option', async () => {
    const r = await passengerCommand(['run', fixtureApp('node-basic'), '--max-pool-sise', '3']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/flag --max-pool-sise: "max_pool_sise" is not a known option \(did you mean "max_pool_size"\?\)/);
  });

  it('exits 2 for a directory nobody recognises, listing what was looked for', async () => {
    const r = await passengerCommand(['detect', fixtureApp('generic-python') + '/public']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/PSG_ERR_DETECT_NO_MATCH: .*looked for config\.ru \(Ruby \(Rack\)\).*app\.js \(Node\.js\).*app_start_command/);
  });
});
