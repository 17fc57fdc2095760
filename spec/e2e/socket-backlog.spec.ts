// socket_backlog: the listen backlog of the HTTP and HTTPS ports, read off
// the kernel's own view of the listening socket (`ss`: Send-Q is the backlog
// of a socket in LISTEN). With node's 511, a burst of 2000 connections
// overflowed the queue (the chaos suite's idle connections), and clients
// whose handshake was dropped waited for SYN-ACK retransmits.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';

/** The backlog of the socket listening on 127.0.0.1:port. */
function listenBacklog(port: number): number {
  const out = execFileSync('ss', ['-Hltn', `sport = :${port}`], { encoding: 'utf8' }).trim();
  const fields = out.split(/\s+/);
  if (fields[0] !== 'LISTEN') throw new Error(`no socket listening on port ${port}: "${out}"`);
  return Number(fields[2]);
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
