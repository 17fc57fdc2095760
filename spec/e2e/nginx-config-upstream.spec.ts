// `passenger nginx-config --upstream HOST:PORT ...` (issue 18, item 1): a
// load balancer's configuration for hosts elsewhere, with no instance on
// this machine. Real nginx checks the syntax (nginx -t); bad input gets an
// error naming the flag or file at fault, exit code 2.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { passengerCommand } from '../support/passenger.ts';

/** nginx -t on the printed configuration inside a minimal nginx.conf; returns nginx's verdict. */
function nginxTest(dir: string, site: string): string {
  writeFileSync(join(dir, 'site.conf'), site);
  copyFileSync('/etc/nginx/scgi_params', join(dir, 'scgi_params'));
  writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  include site.conf;\n}\n`);
  return execFileSync('/usr/sbin/nginx', ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) + 'ok';
}

describe('passenger nginx-config --upstream', function () {
  this.timeout(60000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'psg-upstream-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints an upstream of every host with retries and keep-alive that real nginx accepts, with no instance running here', async () => {
    const r = await passengerCommand(['nginx-config', '--upstream', '10.1.0.1:3000', '--upstream', '[fd00::2]:3000', '--listen', '127.0.0.1:8080', '--upstream-name', 'shop']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('upstream passenger_shop {').and.include('server 10.1.0.1:3000').and.include('server [fd00::2]:3000')
      .and.include('keepalive 32;').and.include('proxy_next_upstream error timeout http_502 http_504;').and.include('listen 127.0.0.1:8080;');
    expect(nginxTest(dir, r.stdout)).to.match(/ok$/);
  });

  it('over SCGI: the secret comes from the hosts\' scgi_secret_file, and nginx accepts it', async () => {
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, 'a'.repeat(32) + '\n', { mode: 0o600 });
    const r = await passengerCommand(['nginx-config', '/srv/app', '--upstream-protocol', 'scgi', '--scgi-secret-file', secretFile, '--upstream', '10.1.0.1:3001']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('scgi_pass passenger_app').and.include('a'.repeat(32)).and.include('scgi_next_upstream error timeout');
    expect(nginxTest(dir, r.stdout)).to.match(/ok$/);
  });

  it('bad input: an error naming the flag or file, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--upstream', 'no-port'], /--upstream: expected HOST:PORT, got "no-port"/],
      [['--upstream', '10.1.0.1:3000', '--upstream-protocol', 'fastcgi'], /--upstream-protocol: expected http or scgi, got "fastcgi"/],
      [['--upstream', '10.1.0.1:3000', '--upstream-protocol', 'scgi'], /name the app's directory/],
      [['/srv/app', '--upstream', '10.1.0.1:3000', '--upstream-protocol', 'scgi'], /needs --scgi-secret-file FILE/],
      [['/srv/app', '--upstream', '10.1.0.1:3000', '--upstream-protocol', 'scgi', '--scgi-secret-file', join(dir, 'missing')], /--scgi-secret-file .*missing: cannot read it \(ENOENT\)/],
    ];
    for (const [args, message] of cases) {
      const r = await passengerCommand(['nginx-config', ...args]);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(message);
    }
  });
});
