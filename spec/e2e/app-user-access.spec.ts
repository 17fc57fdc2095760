// Run as root with apps dropped to the real user `nobody`: when that user
// cannot reach the app (a directory above it is 0700, as /root is, or the
// startup file is private), the spawn is refused before the process starts,
// with PSG_ERR_SPAWN_ACCESS_DENIED naming the path that blocks nobody and the
// chmod that fixes it, instead of a bare "Permission denied" from the loader.
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorReport } from '../../core/errors/report.ts';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

const RACK_APP = "run ->(env) { [200, { 'content-type' => 'text/plain' }, [\"served as #{Process.uid}\\n\"]] }\n";

async function get(p: RunningPassenger, accept = 'application/json'): Promise<{ status: number; body: string }> {
  const r = await fetch(`${p.url}/`, { headers: { Accept: accept } });
  return { status: r.status, body: await r.text() };
}

describe('the user an app runs as cannot reach it', function () {
  this.timeout(90000);
  let p: RunningPassenger | undefined;
  let outer = '';
  before(function () { if (process.getuid?.() !== 0) throw new Error('this spec runs as root, to drop apps to nobody'); });
  beforeEach(() => { outer = mkdtempSync(join(tmpdir(), 'psg-private-')); }); // 0700, owned by root, like /root
  afterEach(async () => { await stopAndClean(p); p = undefined; rmSync(outer, { recursive: true, force: true }); });

  function makeRackApp(): string {
    const app = join(outer, 'app');
    mkdirSync(app, { mode: 0o755 });
    writeFileSync(join(app, 'config.ru'), RACK_APP, { mode: 0o644 });
    return app;
  }

  it('names the 0700 directory above the app and the chmod that fixes it; the app serves once it is applied', async () => {
    const app = makeRackApp();
    p = await startPassenger(app, { args: ['--user', 'nobody'] });
    const r = await get(p);
    expect(r.status, r.body).to.equal(500);
    const report = JSON.parse(r.body) as ErrorReport;
    expect(report.code).to.equal('PSG_ERR_SPAWN_ACCESS_DENIED');
    expect(report.summary).to.equal(`the app runs as user nobody, who cannot enter ${outer} (mode 0700, owner root): it is a directory above the app directory ${app}`);
    expect(report.hints).to.have.length(1);
    expect(report.hints[0]!.title).to.equal(`Let nobody enter ${outer}`);
    expect(report.hints[0]!.command).to.equal(`chmod o+x ${outer}`);
    expect(p.output()).to.not.match(/Permission denied/);
    // The page says it too (not "No plugin recognised this failure").
    const page = await get(p, 'text/html');
    expect(page.body).to.include(`chmod o+x ${outer}`).and.not.include('No plugin recognised');

    chmodSync(outer, 0o711);
    mkdirSync(join(app, 'tmp'));
    writeFileSync(join(app, 'tmp/restart.txt'), '');
    await new Promise((res) => setTimeout(res, 1100)); // restart.txt is looked at once a second
    const fixed = await get(p);
    expect(fixed.status, fixed.body).to.equal(200);
    expect(fixed.body).to.match(/^served as \d+\n$/);
    expect(fixed.body).to.not.equal('served as 0\n');
  });

  it('names a startup file the user cannot read', async () => {
    chmodSync(outer, 0o711);
    const app = makeRackApp();
    chmodSync(join(app, 'config.ru'), 0o600);
    p = await startPassenger(app, { args: ['--user', 'nobody'] });
    const r = await get(p);
    const report = JSON.parse(r.body) as ErrorReport;
    expect(report.code).to.equal('PSG_ERR_SPAWN_ACCESS_DENIED');
    expect(report.summary).to.equal(`the app runs as user nobody, who cannot read ${app}/config.ru (mode 0600, owner root): it is the startup file ${app}/config.ru`);
    expect(report.hints[0]!.command).to.equal(`chmod o+r ${app}/config.ru`);
  });
});
