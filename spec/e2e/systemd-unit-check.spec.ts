// `passenger systemd-unit --check` runs systemd-analyze verify on the unit it
// prints (in a temporary file): accepted as generated; a warning or an error
// is exit 1 with systemd's message, naming the unit's line.
import { expect } from 'chai';
import { passengerCommand } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

const APP = "require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT);\n";

describe('passenger systemd-unit --check', function () {
  this.timeout(60000);
  after(() => removeApps());

  it('says that systemd-analyze verify accepts the unit it printed', async () => {
    const app = makeApp({ 'app.js': APP });
    const r = await passengerCommand(['systemd-unit', app, '--check', '--user', 'www-data', '--port', '8080']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^ExecStart=.* run .* --port 8080/m);
    expect(r.stdout).not.to.include('--check');
    expect(r.stderr).to.include('passenger systemd-unit: systemd-analyze verify accepts this unit');
  });

  it("exits 1 with systemd's warning and the unit's line when it warns", async () => {
    const app = makeApp({ 'app.js': APP });
    const r = await passengerCommand(['systemd-unit', app, '--check', '--user', 'nobody']);
    expect(r.code).to.equal(1);
    const line = r.stdout.split('\n').indexOf('User=nobody') + 1;
    expect(line).to.be.greaterThan(0);
    expect(r.stderr).to.match(new RegExp(`systemd-analyze verify warns about this unit:\\n<the printed unit \\(passenger-[^)]+\\.service\\)>:${line}: Special user nobody configured`));
  });
});
