// Every case of the hostile-request corpus (spec/fixtures/hostile-requests),
// sent as raw bytes to a real `passenger run`: the status is the one in the
// index, the core is still the same process and still serving afterwards,
// and nothing the client hid in a request (a smuggled /smuggled, a refused
// request) ever reaches the app, which records every request it sees.
import { expect } from 'chai';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { firstStatus, loadHostileRequests, sendRaw } from '../support/hostile-requests.ts';
import { pidGone, properties } from '../core/admin/instance-helpers.ts';

/** Records method, target and a few headers of every request except its own /__seen. */
const recordingApp = `
const http = require('http');
const seen = [];
http.createServer((req, res) => {
  if (req.url === '/__seen') { res.setHeader('Content-Type', 'application/json'); res.end(JSON.stringify(seen)); return; }
  let bytes = 0;
  req.on('data', (d) => { bytes += d.length; });
  req.on('end', () => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host, userId: req.headers['x-user-id'],
      underscored: Object.keys(req.headers).filter((h) => h.includes('_')), forwardedHost: req.headers['x-forwarded-host'], bytes });
    res.end('recorded\\n');
  });
}).listen(3000);
`;

interface Seen { method: string; url: string; host: string; userId?: string; underscored: string[]; forwardedHost?: string; bytes: number }

describe('hostile-request corpus against a real server', function () {
  this.timeout(120000);
  const corpus = loadHostileRequests();
  let p: RunningPassenger | undefined;
  let corePid: number;
  const seen = async (): Promise<Seen[]> => (await (await fetch(`${p!.url}/__seen`)).json()) as Seen[];

  before(async () => {
    p = await startPassenger(makeApp({ 'app.js': recordingApp }));
    corePid = properties(p).corePid!;
  });
  after(async () => { await stopAndClean(p); removeApps(); });

  it('has cases for each rule and the usual smuggling set', () => {
    const names = corpus.map((c) => c.name);
    for (const n of ['host-duplicate', 'te-gzip-chunked', 'underscore-header', 'absolute-form', 'http09', 'cl-te', 'te-cl', 'cl-duplicate-different',
      'cl-plus-sign', 'obs-fold', 'bare-lf-header', 'bare-cr-header', 'nul-in-header-value', 'headers-oversized', 'method-invalid-chars',
      'chunk-size-negative', 'te-chunked-identity']) expect(names).to.include(n);
  });

  for (const c of corpus) {
    it(`${c.name}: ${c.status} (${c.why})`, async () => {
      const before = (await seen()).length;
      const out = await sendRaw(p!.port, c.bytes);
      expect(firstStatus(out), `the answer to ${c.name}:\n${out.slice(0, 300)}`).to.equal(c.status);
      if (c.status >= 400) expect(out, 'the refusal says why').to.match(new RegExp(`\\r\\n\\r\\n${c.status} .+: .+`));
      const after = await seen();
      const mine = after.slice(before);
      expect(mine.filter((r) => r.url.includes('smuggled')), 'nothing smuggled reaches the app').to.deep.equal([]);
      if (c.reachesApp) expect(mine.map((r) => r.url.split('?')[0]), 'the app saw the request once').to.deep.equal([`/hostile/${c.name}`]);
      else expect(mine, 'the app never saw a refused request').to.deep.equal([]);
      expect(pidGone(corePid), 'the core is still running').to.equal(false);
    });
  }

  it('passed the accepted cases on with the rules applied', async () => {
    const all = await seen();
    const absolute = all.find((r) => r.url.startsWith('/hostile/absolute-form'));
    expect(absolute, 'absolute-form: origin-form target, Host from the URL').to.deep.include({ url: '/hostile/absolute-form?q=1', host: 'abs.test:8081', forwardedHost: 'abs.test:8081' });
    const underscore = all.find((r) => r.url === '/hostile/underscore-header');
    expect(underscore, 'X_User_Id dropped, X-User-Id untouched').to.deep.include({ userId: 'good', underscored: [] });
    expect(all.find((r) => r.url === '/hostile/te-chunked-uppercase')?.bytes).to.equal(3);
  });

  it('is the same core, still serving, after the whole corpus', async () => {
    expect(properties(p!).corePid).to.equal(corePid);
    const r = await fetch(`${p!.url}/after`);
    expect(r.status).to.equal(200);
    expect(p!.output()).to.not.match(/PSG_ERR_INTERNAL|uncaught|TypeError/i);
  });
});
