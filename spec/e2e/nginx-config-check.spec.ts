// `passenger nginx-config --check` runs nginx -t on what it prints: accepted
// as generated; refused (exit 1) with nginx's own message, naming the line of
// the printed configuration, when a flag makes it invalid.
import { expect } from 'chai';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

describe('passenger nginx-config --check', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  before(async () => { p = await startPassenger(fixtureApp('node-basic')); });
  after(() => stopAndClean(p));

  it('says that nginx -t accepts the configuration it printed', async () => {
    const r = await passengerCommand(['nginx-config', fixtureApp('node-basic'), '--check', '--listen', '127.0.0.1:8081', '--instance-registry-dir', p!.registryDir]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('scgi_pass unix:');
    expect(r.stderr).to.include('passenger nginx-config: nginx -t accepts this configuration');
  });

  it("exits 1 with nginx's message and the line of the printed configuration when nginx refuses it", async () => {
    const r = await passengerCommand(['nginx-config', fixtureApp('node-basic'), '--check', '--listen', '127.0.0.1:99999', '--instance-registry-dir', p!.registryDir]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.include('listen 127.0.0.1:99999;');
    const line = r.stdout.split('\n').findIndex((l) => l.includes('listen 127.0.0.1:99999')) + 1;
    expect(r.stderr).to.include('nginx -t does not accept this configuration (Command failed with exit code 1: nginx -t');
    expect(r.stderr).to.include(`invalid port in "127.0.0.1:99999" of the "listen" directive in <the printed configuration>:${line}`);
    expect(r.stderr).not.to.match(/passenger-nginx-check-/);
  });
});
