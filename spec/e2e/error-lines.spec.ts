// Errors point at the right line, and the terminal is not flooded: real broken
// apps through `passenger run`. A Ruby syntax error in a file that config.ru
// requires names that file and line (not config.ru, where the backtrace
// starts); an ES module that does not parse shows its file, line, source and
// caret as `node server.js` would; the full report is logged once per
// distinct error and each repeat gets one line with its ID.
import { expect } from 'chai';
import type { ErrorReport } from '../../core/errors/report.ts';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

async function jsonReport(p: RunningPassenger): Promise<ErrorReport> {
  const r = await fetch(`${p.url}/`, { headers: { Accept: 'application/json' } });
  const body = await r.text();
  expect(r.status, body).to.equal(500);
  return JSON.parse(body) as ErrorReport;
}

const count = (haystack: string, needle: string) => haystack.split(needle).length - 1;

describe('error reports point at the right line', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; removeApps(); });

  it('Ruby: a syntax error in app.rb, required from config.ru, is "Look at app.rb, line 3"', async () => {
    const app = makeApp({
      'config.ru': "require_relative 'app'\nrun App\n",
      'app.rb': "class App\n  def self.call(env\n    [200, {}, ['x']]\n  end\nend\n",
    });
    p = await startPassenger(app);
    const report = await jsonReport(p);
    expect(report.errorClass).to.equal('SyntaxError');
    expect(report.hints.map((h) => h.title)).to.deep.equal(['Look at app.rb, line 3']);
    expect(report.hints[0]!.body).to.match(/^Ruby could not parse app\.rb: syntax error/);
  });

  it('Node: an ES module that does not parse shows server.js:2 with the source line and the caret', async () => {
    const app = makeApp({
      'package.json': '{ "name": "esm-syntax", "type": "module", "main": "server.js" }\n',
      'server.js': "import http from 'node:http';\nconst app = express(;\nhttp.createServer(app).listen(3000);\n",
    });
    p = await startPassenger(app);
    const report = await jsonReport(p);
    expect(report.errorClass).to.equal('SyntaxError');
    expect(report.detail).to.include(`${app}/server.js:2\nconst app = express(;\n                    ^\n`);
    expect(report.hints.map((h) => h.title)).to.deep.equal(['Look at server.js, line 2']);
  });

  it('Node: the same for a file the startup file imports', async () => {
    const app = makeApp({
      'package.json': '{ "type": "module", "main": "server.js" }\n',
      'server.js': "import { routes } from './lib/routes.js';\nconsole.log(routes);\n",
      'lib/routes.js': 'export const ok = 1;\nexport const routes = {;\n',
    });
    p = await startPassenger(app);
    const report = await jsonReport(p);
    expect(report.detail).to.include(`${app}/lib/routes.js:2\nexport const routes = {;\n                       ^\n`);
    expect(report.hints.map((h) => h.title)).to.deep.equal(['Look at lib/routes.js, line 2']);
  });

  it('logs the full report once per distinct error, and one line with the ID for each repeat', async () => {
    const app = makeApp({ 'config.ru': "raise 'still broken'\n" });
    p = await startPassenger(app);
    const first = await jsonReport(p);
    await p.waitForOutput(new RegExp(`could not start a process \\(error ${first.id}\\)`));
    // The backoff is 0.5 s, then 1 s: wait for two more failed attempts.
    let last = first;
    for (let i = 0; i < 40 && count(p.output(), 'could not start a process') < 3; i++) {
      await new Promise((r) => setTimeout(r, 500));
      last = await jsonReport(p);
    }
    await p.waitForOutput(/could not start a process[^\n]*\n(?:.|\n)*could not start a process[^\n]*\n(?:.|\n)*could not start a process/);
    const out = p.output();
    expect(last.id).to.not.equal(first.id);
    // The environment section is in the full report only: once.
    expect(count(out, '-- Environment (secrets masked) --'), out).to.equal(1);
    expect(count(out, `[${first.id}] Error ${first.id}: `)).to.equal(1);
    expect(out).to.include(`could not start, again: still broken (the same error as ${first.id}: \`grep ${first.id}\` finds its full report)`);
  });
});
