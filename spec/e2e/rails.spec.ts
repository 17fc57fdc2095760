// Rails end to end (spec/fixtures/apps/rails-mini, Debian's railties and
// actionpack 6.1): routes with params, a JSON endpoint, a form protected by
// CSRF, RAILS_ENV from `environment`, Rails' own error pages in development
// and a plain 500 in production, fingerprinted assets served by the core with
// far-future caching, and smart spawning forking processes from a preloader
// that loaded Rails once.
import { expect } from 'chai';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

const railsApp = fixtureApp('rails-mini');
const CSS = '/assets/application-4f1c2b7e9d0a3c5e8b6f1a2d3c4e5f60.css';

interface Info { rails: string; env: string; rails_env: string; pid: number; boot: { pid: number; at: number }; request_id: string }

async function info(url: string, query = ''): Promise<Info> {
  const r = await fetch(`${url}/info${query}`);
  expect(r.status, await r.clone().text()).to.equal(200);
  expect(r.headers.get('content-type')).to.match(/^application\/json/);
  return (await r.json()) as Info;
}

function sessionCookie(r: Response): string {
  const cookie = r.headers.getSetCookie().find((c) => c.startsWith('_'));
  expect(cookie, 'a session cookie').to.be.a('string');
  return cookie!.split(';')[0]!;
}

function postForm(url: string, fields: Record<string, string>, cookie?: string): Promise<Response> {
  return fetch(`${url}/form`, {
    method: 'POST', body: new URLSearchParams(fields).toString(), redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...(cookie ? { Cookie: cookie } : {}) },
  });
}

describe('Rails (rails-mini)', function () {
  this.timeout(90000);

  describe('in development', () => {
    let p: RunningPassenger | undefined;
    before(async () => {
      p = await startPassenger(railsApp, { args: ['--min-instances', '2', '--max-pool-size', '2', '--access-log', 'off'], timeoutMs: 60000 });
    });
    after(async () => { await stopAndClean(p); });

    it('routes with params and answers JSON, with RAILS_ENV from environment and the X-Request-Id Rails saw', async () => {
      const hello = await fetch(`${p!.url}/hello/world?punct=!`);
      expect(hello.status).to.equal(200);
      expect(await hello.text()).to.equal('Hello, world!\n');
      const r = await fetch(`${p!.url}/info`, { headers: { 'X-Request-Id': 'from-the-load-balancer-1' } });
      const body = (await r.json()) as Info;
      expect(body.rails).to.match(/^6\.1\./);
      expect(body.env).to.equal('development');
      expect(body.rails_env).to.equal('development');
      expect(body.request_id).to.equal('from-the-load-balancer-1');
      expect(r.headers.get('x-request-id')).to.equal('from-the-load-balancer-1');
      const made = await fetch(`${p!.url}/info`);
      expect(((await made.json()) as Info).request_id).to.equal(made.headers.get('x-request-id')).and.match(/^[0-9a-f-]{36}$/);
    });

    it('accepts the form posted with its CSRF token and session cookie, and refuses it with 422 otherwise', async () => {
      const form = await fetch(`${p!.url}/form`);
      expect(form.status).to.equal(200);
      const html = await form.text();
      const token = /name="authenticity_token" value="([^"]+)"/.exec(html)?.[1];
      expect(token, html).to.be.a('string');
      const cookie = sessionCookie(form);
      const ok = await postForm(p!.url, { authenticity_token: token!, message: 'hi there' }, cookie);
      expect(ok.status).to.equal(200);
      expect(await ok.text()).to.equal('got hi there\n');
      expect((await postForm(p!.url, { message: 'no token' }, cookie)).status).to.equal(422);
      expect((await postForm(p!.url, { authenticity_token: token!, message: 'no cookie' })).status).to.equal(422);
      expect((await postForm(p!.url, { authenticity_token: 'forged', message: 'bad token' }, cookie)).status).to.equal(422);
    });

    it("shows Rails' own error page for a raising action", async () => {
      const r = await fetch(`${p!.url}/boom`);
      expect(r.status).to.equal(500);
      const page = await r.text();
      expect(page).to.include('ArgumentError').and.include('rails-mini exploded on purpose').and.include('pages_controller.rb');
      // ActionDispatch::DebugExceptions' page, not the server's.
      expect(page).to.match(/Action Controller: Exception caught/);
    });

    it('serves fingerprinted assets from public/assets itself, with far-future caching, without Rails', async () => {
      const r = await fetch(`${p!.url}${CSS}`);
      expect(r.status).to.equal(200);
      expect(r.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
      expect(r.headers.get('content-type')).to.match(/^text\/css/);
      expect(r.headers.get('x-runtime'), 'Rails answered').to.equal(null);
      expect(await r.text()).to.equal('body{color:#333}\n');
      expect(p!.output()).not.to.include(`Started GET "${CSS}"`);
    });

    it('forks its processes from a preloader that loaded Rails once', async () => {
      // Concurrent slow requests spread over both processes.
      const seen = new Map<number, Info>();
      const deadline = Date.now() + 30000;
      while (seen.size < 2 && Date.now() < deadline) {
        for (const i of await Promise.all([info(p!.url, '?sleep=0.3'), info(p!.url, '?sleep=0.3')])) seen.set(i.pid, i);
      }
      expect(seen.size, 'two processes served').to.equal(2);
      const loaded = [...p!.output().matchAll(/\[rails-mini\] preloader (\d+) loaded the app/g)].map((m) => Number(m[1]));
      expect(loaded, 'one preloader, loaded once').to.have.length(1);
      for (const i of seen.values()) {
        // Taken when config/environment.rb ran: in the preloader, before the fork.
        expect(i.boot.pid).to.equal(loaded[0]).and.not.equal(i.pid);
      }
      const [a, b] = [...seen.values()];
      expect(a!.boot.at).to.equal(b!.boot.at);
    });
  });

  describe('in production', () => {
    let p: RunningPassenger | undefined;
    before(async () => {
      p = await startPassenger(railsApp, { args: ['--environment', 'production', '--spawn-method', 'direct'], timeoutMs: 60000 });
    });
    after(async () => { await stopAndClean(p); });

    it('runs with RAILS_ENV production and answers a raising action with a plain 500, not the debug page', async () => {
      const i = await info(p!.url);
      expect([i.env, i.rails_env]).to.deep.equal(['production', 'production']);
      // Started from scratch (spawn_method direct): the process booted Rails itself.
      expect(i.boot.pid).to.equal(i.pid);
      const r = await fetch(`${p!.url}/boom`);
      expect(r.status).to.equal(500);
      const page = await r.text();
      expect(page).to.include('rails-mini public/500.html');
      expect(page).not.to.include('exploded on purpose');
    });

    it('still serves the assets with far-future caching', async () => {
      const r = await fetch(`${p!.url}${CSS}`);
      expect(r.status).to.equal(200);
      expect(r.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable');
    });
  });
});
