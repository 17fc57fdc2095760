// socket_backlog: the listen backlog of the HTTP and HTTPS ports and of the
// SCGI socket nginx connects to, read off
// the kernel's own view of the listening socket (`ss`: Send-Q is the backlog
// of a socket in LISTEN). With node's 511, a burst of 2000 connections
// overflowed the queue (the chaos suite's idle connections), and clients
// whose handshake was dropped waited for SYN-ACK retransmits.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { instancePath } from '../core/admin/instance-helpers.ts';

/** The backlog of the socket listening on 127.0.0.1:port. */
function listenBacklog(port: number): number {
  const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const fields = out.split(/\s+/);
  if (fields[0] !== 'LISTEN') throw new Error(`no socket listening on port ${port}: "${out}"`);
  return Number(fields[2]);
}

/** The backlog of the Unix socket listening at `path` (bound under a temporary name next to it, then renamed: ss shows the name it was bound to). */
function unixBacklog(path: string): number {
  const fields = execFileSync('ss', ['-Hlx'], { encoding: 'utf8' }).split('\n').map((l) => l.trim().split(/\s+/));
  // Netid State Recv-Q Send-Q Local Port ...
  const found = fields.find((f) => f[4] === path || f[4]?.startsWith(`${path}.`));
  if (!found) throw new Error(`no Unix socket listening at ${path}`);
  return Number(found[3]);
}

/** The kernel caps a backlog at net.core.somaxconn. */
const cap = (n: number) => Math.min(n, Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8')));

describe('socket_backlog', function () {
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });

  it('is 2048 on the HTTP port by default, not node\'s 511', async () => {
    p = await startPassenger(fixtureApp('node-basic'));
    expect(listenBacklog(p.port)).to.equal(cap(2048));
  });

  it('takes --socket-backlog', async () => {
    p = await startPassenger(fixtureApp('node-basic'), { args: ['--socket-backlog', '100'] });
    expect(listenBacklog(p.port)).to.equal(100);
  });

  it('applies to the SCGI socket that nginx connects to', async () => {
    p = await startPassenger(fixtureApp('node-basic'));
    expect(unixBacklog(`${instancePath(p)}/request.sock`)).to.equal(cap(2048));
    await stopAndClean(p);
    p = await startPassenger(fixtureApp('node-basic'), { args: ['--socket-backlog', '100'] });
    expect(unixBacklog(`${instancePath(p)}/request.sock`)).to.equal(100);
  });

  describe('HTTPS', () => {
    let ca: TestCa;
    before(() => { ca = makeTestCa(); });
    after(() => { ca.remove(); });

    it('applies to the port that serves HTTPS', async () => {
      const cert = ca.issue('localhost');
      p = await startPassenger(fixtureApp('node-basic'), { args: ['--ssl', '--ssl-certificate', cert.cert, '--ssl-certificate-key', cert.key, '--socket-backlog', '300'] });
      expect(listenBacklog(p.port)).to.equal(300);
    });
  });
});
