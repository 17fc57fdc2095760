// Real broken apps through `passenger run`: each error report carries the
// app's own error text and the right hint from its plugin, in the JSON, on the
// page and in the log; secrets are masked; production shows only an error ID;
// a third-party plugin adds its own section; a fixed app serves again.
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorReport } from '../../core/errors/report.ts';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

interface Answer { status: number; body: string; headers: Headers }

async function get(url: string, accept = 'text/html'): Promise<Answer> {
  const r = await fetch(url, { headers: { Accept: accept } });
  return { status: r.status, body: await r.text(), headers: r.headers };
}

async function jsonReport(p: RunningPassenger): Promise<ErrorReport> {
  const r = await get(`${p.url}/`, 'application/json');
  expect(r.status, r.body).to.equal(500);
  return JSON.parse(r.body) as ErrorReport;
}

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

function escaped(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

interface BrokenApp {
  app: string;
  errorClass?: string;
  /** The app's own error text, somewhere in summary, detail or output. */
  own: RegExp;
  plugin: string;
  hint: RegExp;
  command?: RegExp;
}

const brokenApps: BrokenApp[] = [
  { app: 'broken-rack-raises', errorClass: 'ArgumentError', own: /config\.ru refuses to load: <b>no SECRET_KEY_BASE<\/b>/, plugin: 'passenger:rack', hint: /^Look at config\.ru, line 4$/ },
  { app: 'broken-rack-gem', errorClass: 'Bundler::GemNotFound', own: /Could not find gem 'passenger_ts_no_such_gem'/, plugin: 'passenger:rack',
    hint: /^Install the gem "passenger_ts_no_such_gem" \(bundle install\)$/, command: /^cd \S+\/broken-rack-gem && \/\S*ruby\S* -S bundle install$/ },
  { app: 'broken-rack-ruby-version', errorClass: 'Bundler::RubyVersionMismatch', own: /Your Ruby version is [\d.]+, but your Gemfile specified 9\.9\.9/, plugin: 'passenger:rack',
    hint: /^Run the app with Ruby 9\.9\.9$/, command: /^passenger run \S+\/broken-rack-ruby-version --ruby \/path\/to\/ruby-9\.9\.9\/bin\/ruby$/ },
  { app: 'broken-wsgi-import', errorClass: 'ModuleNotFoundError', own: /No module named 'passenger_ts_no_such_module'/, plugin: 'passenger:wsgi',
    hint: /^Install the Python module "passenger_ts_no_such_module" for the interpreter the app runs with$/, command: /^cd \S+\/broken-wsgi-import && \/\S+ -m pip install passenger_ts_no_such_module$/ },
  { app: 'broken-node-missing-module', errorClass: 'Error [MODULE_NOT_FOUND]', own: /Cannot find module 'passenger-ts-no-such-package'/, plugin: 'passenger:node',
    hint: /^Install the app's dependencies \("passenger-ts-no-such-package" is not installed\)$/, command: /^cd \S+\/broken-node-missing-module && npm install$/ },
  { app: 'node-throws', errorClass: 'TypeError', own: /configuration is broken: no SECRET set/, plugin: 'passenger:node', hint: /^Look at app\.js, line 2$/ },
  { app: 'broken-node-esm', errorClass: 'ReferenceError', own: /require is not defined in ES module scope/, plugin: 'passenger:node', hint: /^An ES module uses `require`, which only CommonJS has$/ },
  { app: 'broken-node-require-esm', errorClass: 'Error [ERR_REQUIRE_ASYNC_MODULE]', own: /require\(\) cannot be used on an ESM graph with top-level await/, plugin: 'passenger:node',
    hint: /^CommonJS code require\(\)s an ES module$/ },
  { app: 'broken-generic-wrong-port', own: /Listening on http:\/\/localhost:3999/, plugin: 'passenger:generic',
    hint: /^The app listens on port 3999, not on \$PORT \(\d+\)$/, command: /^cd \S+\/broken-generic-wrong-port && PORT=\d+ \/bin\/sh -c 'echo/ },
  { app: 'broken-generic-not-found', own: /passenger-ts-no-such-command: (command )?not found/, plugin: 'passenger:generic',
    hint: /^The command was not found \(exit code 127\)$/, command: /PORT=\d+ \/bin\/sh -c 'passenger-ts-no-such-command --port \$PORT'$/ },
];

describe('error pages: real broken apps', function () {
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; removeApps(); });

  for (const c of brokenApps) {
    it(`${c.app}: the report has the app's own error and the hint from ${c.plugin}`, async () => {
      p = await startPassenger(fixtureApp(c.app));
      const report = await jsonReport(p);
      if (c.errorClass) expect(report.errorClass).to.equal(c.errorClass);
      expect([report.summary, report.detail, ...report.output].join('\n')).to.match(c.own);
      const hint = report.hints.find((h) => c.hint.test(h.title));
      expect(hint, `hints: ${JSON.stringify(report.hints, null, 2)}`).to.not.equal(undefined);
      expect(hint!.plugin).to.equal(c.plugin);
      if (c.command) expect(hint!.command).to.match(c.command);

      // The full text report is in the log, once, every line tagged with the ID.
      await p.waitForOutput(new RegExp(`could not start a process \\(error ${report.id}\\)`));
      expect(countOf(p.output(), `[${report.id}] Error ${report.id}: ${c.app} could not start`)).to.equal(1);
      expect(p.output()).to.include(`[${report.id}]     1. ${hint!.title}`);

      const page = await get(`${p.url}/`);
      expect(page.status).to.equal(500);
      expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).to.match(/^default-src 'none'; style-src 'unsafe-inline'/);
      expect(page.body).to.include(`<h3>${escaped(hint!.title).replace(/`([^`]*)`/g, '<code>$1</code>')}</h3>`);
    });
  }

  it('masks secrets in the JSON, on the page and in the log', async () => {
    const secrets = { PAYMENT_API_KEY: 'pk_live_SECRETVALUE1', DATABASE_URL: 'postgres://app:SECRETVALUE2@db/app', CACHE_URI: 'redis://c:SECRETVALUE3@cache:6379/0', SESSION_SECRET: 'SECRETVALUE4' };
    p = await startPassenger(fixtureApp('broken-generic-not-found'), { env: { ...process.env, ...secrets } });
    const report = await jsonReport(p);
    expect(report.environment.PAYMENT_API_KEY).to.equal('•••••• (masked, 20 characters)');
    expect(report.environment.DATABASE_URL).to.match(/^•••••• \(masked/);
    expect(report.environment.SESSION_SECRET).to.match(/^•••••• \(masked/);
    expect(report.environment.CACHE_URI).to.equal('redis://c:••••••@cache:6379/0');
    const page = (await get(`${p.url}/`)).body;
    expect(page).to.include('<td>PAYMENT_API_KEY</td><td class="masked">•••••• (masked, 20 characters)</td>');
    await p.waitForOutput(new RegExp(`\\[${report.id}\\]     PAYMENT_API_KEY=`));
    for (const where of [JSON.stringify(report), page, p.output()]) expect(where).not.to.match(/SECRETVALUE\d/);
  });

  it('in production: a generic page and JSON with only the error ID; the full report is in the log under it', async () => {
    p = await startPassenger(fixtureApp('broken-node-missing-module'), { args: ['--environment', 'production'] });
    const json = await get(`${p.url}/`, 'application/json');
    expect(json.status).to.equal(500);
    const body = JSON.parse(json.body) as Record<string, string>;
    expect(Object.keys(body).sort()).to.deep.equal(['error', 'errorId']);
    const page = await get(`${p.url}/`);
    expect(page.status).to.equal(500);
    const id = /error ID <code>([0-9a-f]+)<\/code>/.exec(page.body)?.[1];
    expect(id, page.body).to.match(/^[0-9a-f]{10}$/);
    for (const leak of ['passenger-ts-no-such-package', 'broken-node-missing-module', 'MODULE_NOT_FOUND', 'PATH']) expect(page.body).not.to.include(leak);
    expect(Buffer.byteLength(page.body)).to.be.below(8 * 1024);
    await p.waitForOutput(new RegExp(`could not start a process \\(error ${id}\\)`));
    const logged = p.output().split('\n').filter((l) => l.includes(`[${id}] `)).join('\n');
    expect(logged).to.include("Cannot find module 'passenger-ts-no-such-package'");
    expect(logged).to.include('$ cd ');
  });

  it('in production with friendly_error_pages on: the full page', async () => {
    p = await startPassenger(fixtureApp('broken-node-missing-module'), { args: ['--environment', 'production', '--friendly-error-pages'] });
    const page = await get(`${p.url}/`);
    expect(page.body).to.include('How to fix it');
    expect(page.body).to.include('passenger-ts-no-such-package');
  });

  it('shows the section and hint a third-party plugin adds through the same hook', async () => {
    p = await startPassenger(fixtureApp('broken-thirdparty-section'));
    const report = await jsonReport(p);
    expect(report.sections).to.deep.include({ title: 'Deploy checklist', body: 'config/app.yml present: no\n<i>owner</i> on call: ops@example.com', plugin: 'deploy-checklist' });
    expect(report.hints.map((h) => [h.plugin, h.title])).to.deep.include.members([
      ['passenger:generic', 'The command exited with code 4 before listening on $PORT'],
      ['deploy-checklist', 'Copy config/app.yml from the vault'],
    ]);
    const page = (await get(`${p.url}/`)).body;
    expect(page).to.include('<details open><summary>Deploy checklist <small>from deploy-checklist</small></summary><pre>config/app.yml present: no\n&lt;i&gt;owner&lt;/i&gt; on call: ops@example.com</pre>');
    expect(page).to.include('<pre class="cmd"><code>vault read secret/app &gt; config/app.yml</code></pre>');
  });

  it('backs off after a failed spawn, then serves once the app is fixed and tmp/restart.txt is touched', async () => {
    const appDir = makeApp({
      'package.json': '{ "name": "recovering", "private": true, "type": "commonjs" }',
      'app.js': "const config = require('./config.json');\nrequire('node:http').createServer((req, res) => res.end(`hello ${config.name}`)).listen(3000);\n",
    });
    p = await startPassenger(appDir);
    const first = await jsonReport(p);
    expect(first.hints[0]!.title).to.equal('A file the app loads is missing: ./config.json');
    // Requests right after a failure get the kept report: no new spawn for each of them.
    const failuresBefore = countOf(p.output(), 'could not start a process');
    for (let i = 0; i < 5; i++) expect((await get(`${p.url}/`, 'application/json')).status).to.equal(500);
    expect(countOf(p.output(), 'could not start a process') - failuresBefore).to.be.at.most(1);
    // Once the delay is over, a request makes the next attempt, and the delay grows.
    const deadlineForRetry = Date.now() + 10000;
    while (!/next attempt in 1 s at the earliest/.test(p.output()) && Date.now() < deadlineForRetry) {
      expect((await get(`${p.url}/`, 'application/json')).status).to.equal(500);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(p.output()).to.match(/next attempt in 0\.5 s at the earliest[\s\S]*next attempt in 1 s at the earliest/);

    writeFileSync(join(appDir, 'config.json'), '{ "name": "fixed" }');
    mkdirSync(join(appDir, 'tmp'), { recursive: true });
    writeFileSync(join(appDir, 'tmp/restart.txt'), '');
    const deadline = Date.now() + 15000;
    let last: Answer = await get(`${p.url}/`);
    while (last.status !== 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      last = await get(`${p.url}/`);
    }
    expect(last.status, last.body.slice(0, 300)).to.equal(200);
    expect(last.body).to.equal('hello fixed');
    expect(p.child.exitCode).to.equal(null);
  });
});
