// Meteor apps through `passenger run`: a bundled app (meteor build output) on
// the Node loader, and an unbundled one through `meteor run`. The meteor
// command cannot be installed here, so the unbundled specs put a stand-in
// named meteor on PATH (spec/fixtures/bin/meteor) that behaves like
// `meteor run`: Meteor's start-up lines, then HTTP on the given port.
import { expect } from 'chai';
import { join } from 'node:path';
import { fixtureApp, repoRoot, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

const standInBin = join(repoRoot, 'spec/fixtures/bin');
const withStandIn = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
  ({ ...process.env, ...extra, PATH: `${standInBin}:${process.env.PATH ?? ''}` });

async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, { headers });
  return { status: r.status, body: await r.json() as Record<string, unknown> };
}

describe('Meteor apps', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
  });

  describe('bundled (meteor build output, Node loader)', () => {
    it('serves requests with ROOT_URL defaulting to our address', async () => {
      p = await startPassenger(fixtureApp('meteor-bundled'));
      const r = await getJson(`${p.url}/hello`);
      expect(r.status).to.equal(200);
      expect(r.body.url).to.equal('/hello');
      expect(r.body.rootUrl).to.equal(`http://localhost:${p.port}`);
      expect(r.body.mongoUrl).to.equal(null);
      expect(r.body.settings).to.equal(null);
      expect(p.output()).to.match(/serving .*meteor-bundled \(meteor,/);
    });

    it('passes root_url, mongo_url and the meteor_app_settings file through the environment', async () => {
      p = await startPassenger(fixtureApp('meteor-bundled'), {
        args: ['--root-url', 'https://example.test/app', '--mongo-url', 'mongodb://127.0.0.1:27017/app', '--meteor-app-settings', 'settings.json'],
      });
      const r = await getJson(`${p.url}/`);
      expect(r.body.rootUrl).to.equal('https://example.test/app');
      expect(r.body.mongoUrl).to.equal('mongodb://127.0.0.1:27017/app');
      expect(r.body.settings).to.deep.equal({ public: { greeting: 'hello from settings' } });
    });
  });

  describe('unbundled (.meteor/, meteor run) with a stand-in meteor command on PATH', () => {
    it('runs `meteor run --port N` in the app and serves requests once the port accepts connections', async () => {
      p = await startPassenger(fixtureApp('meteor-unbundled'), { env: withStandIn() });
      const r = await getJson(`${p.url}/from-meteor`);
      expect(r.status).to.equal(200);
      expect(r.body.standIn).to.equal('meteor run');
      expect(r.body.cwd).to.equal(fixtureApp('meteor-unbundled'));
      expect(r.body.url).to.equal('/from-meteor');
      expect(r.body.production).to.equal(false);
      expect(p.output()).to.contain('=> App running at: http://localhost:');
    });

    it("answers with an error report carrying meteor's output when the app fails to start", async () => {
      p = await startPassenger(fixtureApp('meteor-unbundled'), { env: withStandIn({ METEOR_STANDIN_FAIL: 'Unexpected token (3:1)' }) });
      const r = await getJson(`${p.url}/`, { Accept: 'application/json' });
      expect(r.status).to.equal(500);
      expect(r.body.summary).to.match(/exited with code 1 before it listened on port \d+/);
      expect((r.body.output as string[]).join('\n')).to.match(/Errors prevented startup:[\s\S]*Unexpected token \(3:1\)/);
    });
  });
});
