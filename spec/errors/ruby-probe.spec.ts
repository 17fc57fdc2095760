// The Ruby hints ask the interpreter the app ran with where it lives and which
// version it is (execa, loaded on first use): as the app's user, with only the
// app's Ruby-related environment; a probe that hangs is killed after its time
// limit and the hints fall back to the command as the app ran it.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppSpec, ErrorReport } from '../../core/index.ts';
import { rubyHints } from '../../plugins/rack/ruby-hints.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { sampleReport } from './sample-report.ts';

const NOBODY = { name: 'nobody', uid: 65534, gid: 65534 };

async function loadErrorHint(command: string, root: string): Promise<string> {
  const r: ErrorReport = sampleReport({
    appRoot: root, cwd: root, appType: 'rack', command: [command, 'rack-loader.rb'], detail: '', properties: {},
    errorClass: 'LoadError', summary: 'cannot load such file -- nokogiri', user: NOBODY,
    environment: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent' },
  });
  const ctx = { app: { appRoot: root, options: {}, sources: {} } as unknown as AppSpec, output: r.output };
  const out = await rubyHints(r, ctx, 'passenger:rack');
  return out.hints[0]!.command!;
}

describe('ruby hints: asking the Ruby the app ran with', function () {
  this.timeout(20000);
  after(() => removeApps());

  it('names the interpreter the probe found, running it as the app user', async () => {
    const root = makeApp({ 'config.ru': '' });
    chmodSync(root, 0o755);
    const real = execFileSync('ruby', ['-e', 'print RbConfig.ruby'], { encoding: 'utf8' });
    // A "ruby" that reports who runs it: the probe must run as nobody, not as root.
    const whoami = join(root, 'ruby-as');
    writeFileSync(whoami, `#!/bin/sh\nprintf '%s\\n%s' "/uid/$(id -u)" "3.0.0"\n`);
    chmodSync(whoami, 0o755);
    expect(await loadErrorHint('ruby', root)).to.equal(`${real} -S gem install nokogiri`);
    expect(await loadErrorHint(whoami, root)).to.equal(`/uid/${process.getuid?.() === 0 ? 65534 : process.getuid?.()} -S gem install nokogiri`);
  });

  it('falls back to the command when the probe hangs, killing it after the time limit', async () => {
    const root = makeApp({ 'config.ru': '' });
    chmodSync(root, 0o755);
    const hung = join(root, 'hung-ruby');
    writeFileSync(hung, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(hung, 0o755);
    expect(await loadErrorHint(hung, root)).to.equal(`${hung} -S gem install nokogiri`);
  });
});
