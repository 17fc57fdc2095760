// The status page on the metrics listener, in the real (headless) Chromium:
// it shows a running app's process, refreshes itself under its own strict
// Content-Security-Policy, and renders to a screenshot.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, runChromium, screenshot, visibleText } from '../errors/chromium.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { metricsPort } from './metrics-helpers.ts';

describe('status page in Chromium', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  let base = '';
  let pid = 0;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    const port = await metricsPort();
    const dir = makeApp({ 'config.ru': 'run lambda { |env| [200, { "content-type" => "text/plain" }, ["#{Process.pid}"]] }\n' });
    p = await startPassenger(dir, { args: ['--metrics-address', `127.0.0.1:${port}`, '--app-name', 'storefront', '--environment', 'staging'] });
    base = `http://127.0.0.1:${port}`;
    pid = Number(await (await fetch(`${p.url}/`)).text());
  });
  after(async () => {
    await stopAndClean(p);
    p = undefined;
    removeApps();
  });

  it('shows the app, its running process and its requests, and refreshes itself', async () => {
    // Virtual time: the two-second refresh timer fires a few times before the DOM is taken.
    const dom = await runChromium(`${base}/`, ['--dump-dom', '--virtual-time-budget=7000']);
    const text = visibleText(dom);
    expect(text).to.include('storefront');
    expect(text).to.include('rack, staging');
    expect(text).to.match(new RegExp(`${pid} enabled 0/1 1 `));
    expect(text).to.match(/Requests 1 \(2xx: 1\)/);
    expect(text).to.include('Last error none');
    // Only possible if the inline script ran, i.e. the page's CSP lets its own script run.
    const refreshes = Number(/data-refreshes="(\d+)"/.exec(dom)?.[1]);
    expect(refreshes).to.be.at.least(1);
    expect(text).to.match(/updated \d/);
  });

  it('renders a screenshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psg-status-shot-'));
    try {
      const file = join(dir, 'status.png');
      await screenshot(`${base}/`, file, '1100,700');
      const png = readFileSync(file);
      expect(png.subarray(1, 4).toString()).to.equal('PNG');
      expect(png.length).to.be.above(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows no paths or secrets, and sends a CSP that allows nothing from elsewhere', async () => {
    const r = await fetch(`${base}/`);
    const body = await r.text();
    expect(r.headers.get('content-security-policy')).to.match(/^default-src 'none'; style-src 'sha256-[^']+'; script-src 'sha256-[^']+'; connect-src 'self'/);
    expect(body).to.not.include('/tmp');
    expect(body).to.not.match(/https?:\/\//);
    const part = await (await fetch(`${base}/?part=main`)).text();
    expect(part.startsWith('<section class="app">')).to.equal(true);
    expect(part).to.include(`<td>${pid}</td>`);
  });
});
