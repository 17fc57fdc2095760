// The error page in a real browser (headless Chromium): it reads right, and
// markup an app printed is shown as text, never run.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { CHROMIUM, dumpDom, screenshot, visibleText } from '../errors/chromium.ts';

describe('error pages in headless Chromium', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  let dom: string;
  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is needed for these specs (Debian package chromium)`);
    p = await startPassenger(fixtureApp('broken-rack-raises'));
    await p.waitForOutput(/could not start a process/);
    dom = await dumpDom(`${p.url}/`);
  });
  after(async () => { await stopAndClean(p); p = undefined; });

  it('keeps the title: the <script> the app printed did not run', () => {
    const title = /<title>([^<]*)<\/title>/.exec(dom)?.[1];
    expect(title).to.equal('broken-rack-raises could not start: config.ru refuses to load: &lt;b&gt;no SECRET_KEY_BASE&lt;/b&gt;');
    expect(dom).not.to.include('pwned</title>');
  });

  it('has no script or markup from the app in the DOM, only text', () => {
    expect(dom).not.to.match(/<script|<b>no SECRET/i);
    const text = visibleText(dom);
    expect(text).to.include("<script>document.title='pwned'</script> printed by config.ru");
    expect(text).to.include('config.ru refuses to load: <b>no SECRET_KEY_BASE</b>');
  });

  it('shows the headline, the failed step, the hint and the evidence', () => {
    const text = visibleText(dom);
    for (const part of [
      'The application broken-rack-raises could not start',
      'Where it failed', '✗ failed Load the application',
      'What happened', 'ArgumentError',
      'How to fix it', 'Look at config.ru, line 4', 'Suggested by passenger:rack',
      'Error detail', 'Application output', 'Diagnostics', 'Environment',
    ]) expect(text, part).to.include(part);
  });

  it('renders a screenshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psg-shot-'));
    try {
      const file = join(dir, 'page.png');
      await screenshot(`${p!.url}/`, file);
      const png = readFileSync(file);
      expect(png.subarray(1, 4).toString()).to.equal('PNG');
      expect(png.length).to.be.above(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
