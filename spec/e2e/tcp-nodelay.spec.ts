// Nagle's algorithm is off on every TCP connection the core serves: with it
// on, a response's last small segment waits for the client's delayed ACK
// (~40 ms). node:http and tls.Server turn it off only on what their own
// listener accepts, so the connections that reach the core another way
// (held by the watchdog while the core restarted, or through the SCGI
// listener the watchdog handed over) are checked here, on the core's real
// socket.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import getPort from 'get-port';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { tcpNoDelayIn } from '../support/tcp-nodelay.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { properties, waitFor } from '../core/admin/instance-helpers.ts';

function tcpConnect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => { s.off('error', reject); resolve(s); });
    s.on('error', reject);
  });
}

/** Sends a GET on a connection left open and resolves once a response arrives. */
function exchange(s: net.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('data', (d: Buffer) => (d.toString().startsWith('HTTP/1.1 ') ? resolve() : reject(new Error(`not a response: ${d.toString()}`))));
    s.once('error', reject);
    s.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  });
}

function count(p: RunningPassenger, re: RegExp): number {
  return (p.output().match(new RegExp(re.source, 'g')) ?? []).length;
}

/**
 * Kills the core until its restart is delayed (the third crash within a minute waits 250 ms before
 * starting the next core), and returns once that crash was noticed: a connection made now is held
 * by the watchdog until the next core is ready.
 */
async function crashUntilRestartIsDelayed(p: RunningPassenger): Promise<void> {
  for (;;) {
    const crashes = count(p, /the core exited unexpectedly/);
    const restarts = count(p, /core restarted \(pid \d+\) and serving again/);
    await waitFor(() => restarts >= crashes, 15000, 'the core to serve again');
    process.kill(properties(p).corePid!, 'SIGKILL');
    await waitFor(() => count(p, /the core exited unexpectedly/) > crashes, 10000, 'the watchdog to notice the crash');
    if (crashes + 1 >= 3) return;
    await waitFor(() => count(p, /core restarted \(pid \d+\) and serving again/) > restarts, 15000, 'the core to serve again');
  }
}

/** Connects while no core runs, proves the watchdog holds the connection, and returns the next core's view of it. */
async function heldConnectionNoDelay(p: RunningPassenger, talk: (s: net.Socket) => Promise<net.Socket>): Promise<boolean | undefined> {
  await crashUntilRestartIsDelayed(p);
  const restarts = count(p, /core restarted \(pid \d+\) and serving again/);
  const tcp = await tcpConnect(p.port);
  const clientPort = tcp.localPort!;
  try {
    const watchdog = properties(p).watchdogPid;
    await waitFor(() => tcpNoDelayIn(watchdog, clientPort) !== undefined, 5000, 'the watchdog to hold the connection');
    expect(count(p, /core restarted \(pid \d+\) and serving again/), 'no core served yet').to.equal(restarts);
    const open = await talk(tcp);
    await waitFor(() => count(p, /core restarted \(pid \d+\) and serving again/) > restarts, 15000, 'the core to serve again');
    const noDelay = tcpNoDelayIn(properties(p).corePid!, clientPort);
    open.destroy();
    return noDelay;
  } finally {
    tcp.destroy();
  }
}

describe('TCP_NODELAY on the connections the core serves', function () {
  this.timeout(90000);

  describe('plain HTTP and SCGI over TCP', () => {
    let p: RunningPassenger | undefined;
    let scgiPort: number;
    before(async () => {
      scgiPort = await getPort({ host: '127.0.0.1' });
      p = await startPassenger(fixtureApp('node-basic'), { args: ['--scgi-address', `127.0.0.1:${scgiPort}`] });
    });
    after(async () => { await stopAndClean(p); });

    it('on a connection the core accepted itself (the built-in engine, lean or node:http)', async () => {
      const s = await tcpConnect(p!.port);
      try {
        await exchange(s);
        expect(tcpNoDelayIn(properties(p!).corePid!, s.localPort!)).to.equal(true);
      } finally { s.destroy(); }
    });

    it('on an SCGI connection from a front web server over TCP (scgi_address)', async () => {
      const s = await tcpConnect(scgiPort);
      try {
        // Half a request head: the connection stays open while it is looked at.
        s.write('70:CONTENT_LENGTH');
        const core = properties(p!).corePid!;
        await waitFor(() => tcpNoDelayIn(core, s.localPort!) !== undefined, 5000, 'the core to accept the connection');
        expect(tcpNoDelayIn(core, s.localPort!)).to.equal(true);
      } finally { s.destroy(); }
    });

    it('on a connection the watchdog held while the core restarted', async () => {
      expect(await heldConnectionNoDelay(p!, async (s) => { await exchange(s); return s; })).to.equal(true);
    });
  });

  describe('HTTPS', () => {
    let ca: TestCa;
    let p: RunningPassenger | undefined;
    const overTls = (tcp: net.Socket): Promise<net.Socket> => new Promise((resolve, reject) => {
      const s = tls.connect({ socket: tcp, servername: 'localhost', ca: readFileSync(ca.caCert), ALPNProtocols: ['http/1.1'] }, () => {
        exchange(s).then(() => resolve(s), reject);
      });
      s.on('error', reject);
    });
    before(async () => {
      ca = makeTestCa();
      const cert = ca.issue('localhost');
      p = await startPassenger(fixtureApp('node-basic'), { args: ['--ssl', '--ssl-certificate', cert.cert, '--ssl-certificate-key', cert.key] });
    });
    after(async () => {
      await stopAndClean(p);
      ca.remove();
    });

    it('on a connection the core accepted itself (a 1 MiB response over HTTP/1.1 TLS had waited ~40 ms)', async () => {
      const tcp = await tcpConnect(p!.port);
      const s = await overTls(tcp);
      try {
        expect(tcpNoDelayIn(properties(p!).corePid!, tcp.localPort!)).to.equal(true);
      } finally { s.destroy(); }
    });

    it('on a connection the watchdog held while the core restarted', async () => {
      expect(await heldConnectionNoDelay(p!, overTls)).to.equal(true);
    });
  });
});
