// Several hosts behind a real nginx: three network namespaces, each with a
// veth pair and one `passenger run`, and Debian's nginx in the root
// namespace with the configuration `passenger nginx-config --upstream`
// prints. Under a bounded load through nginx: a graceful stop of one host
// fails no request, neither does a rolling `restart-app` across the hosts,
// and kill -9 of a whole host fails at most the requests in flight on it.
// Then the same topology over SCGI (TCP, shared scgi_secret_file).
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { passengerCommand, startPassenger, type RunningPassenger } from '../support/passenger.ts';
import { startNginx, get, type RunningNginx } from '../support/nginx.ts';
import { createHosts, inHost, pidsIn, removeHosts, type SimulatedHost } from '../support/netns.ts';
import { lbLoad } from '../support/lb-load.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

// Answers with the name of the host it runs on and its PID, after ?ms= milliseconds (so requests are in flight when a host stops).
const APP = `require('http').createServer((req, res) => {
  const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') || 0);
  setTimeout(() => res.end(process.env.SIM_HOST + ' ' + process.pid + '\\n'), ms);
}).listen(3000);
`;
const HTTP_PORT = 3000;
const SCGI_PORT = 3001;

describe('several hosts behind nginx (network namespaces)', function () {
  this.timeout(150000);
  let hosts: SimulatedHost[] = [];
  const servers: (RunningPassenger | undefined)[] = [];
  let nginx: RunningNginx | undefined;
  let lbPort: number;
  let app: string;
  let secretDir: string;

  const startHost = async (i: number, extra: string[]) => {
    const host = hosts[i]!;
    servers[i] = await startPassenger(app, {
      prefix: inHost(host), address: host.address, port: HTTP_PORT, timeoutMs: 60000,
      env: { ...process.env, SIM_HOST: `host${i}` },
      // nginx reaches the host from the root side of the link: trust its X-Forwarded-For.
      args: ['--trusted-proxies', host.peerAddress, '--drain-delay', '1', '--shutdown-timeout', '10', '--log-level', 'info', ...extra],
    });
  };
  /** Stops a host however it is, and removes its registry (a host killed with -9 leaves its instance directory). */
  const dropHost = async (i: number) => {
    const s = servers[i];
    servers[i] = undefined;
    if (!s) return;
    await s.stop('SIGKILL');
    for (const pid of pidsIn(hosts[i]!)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    rmSync(s.registryDir, { recursive: true, force: true });
  };
  const startLb = async (config: string) => {
    nginx = startNginx(config.replace(/listen 80;/, `listen 127.0.0.1:${lbPort};`));
    const deadline = Date.now() + 10000;
    for (;;) {
      if (nginx.exited()) throw new Error(`nginx exited: ${nginx.output()}`);
      const ok = await get(lbPort, 'localhost', '/').then((r) => r.status === 200, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error('nginx does not answer');
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** Every host answers through nginx (round robin). */
  const hostsSeen = async (n: number) => {
    const seen = new Set<string>();
    for (let k = 0; k < n; k++) seen.add((await get(lbPort, 'localhost', '/')).body.split(' ')[0]!);
    return [...seen].sort();
  };
  /** A restarted host is back in rotation once nginx's fail_timeout (5 s) for it has passed. */
  const untilAllHostsSeen = async () => {
    const deadline = Date.now() + 20000;
    let seen = await hostsSeen(12);
    while (seen.length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      seen = await hostsSeen(12);
    }
    return seen;
  };

  before(async () => {
    hosts = createHosts(3, 'psgmh');
    app = makeApp({ 'app.js': APP });
    secretDir = mkdtempSync(join(tmpdir(), 'psg-secret-'));
    lbPort = await getPort({ host: '127.0.0.1' });
  });
  after(async () => {
    await nginx?.stop();
    for (let i = 0; i < servers.length; i++) await dropHost(i);
    removeHosts(hosts);
    rmSync(secretDir, { recursive: true, force: true });
    removeApps();
  });

  describe('HTTP upstreams', () => {
    before(async () => {
      await Promise.all([0, 1, 2].map((i) => startHost(i, [])));
      const conf = await passengerCommand(['nginx-config', ...hosts.flatMap((h) => ['--upstream', `${h.address}:${HTTP_PORT}`])]);
      expect(conf.code, conf.stderr).to.equal(0);
      expect(conf.stdout).to.include('keepalive 32;').and.include('proxy_next_upstream error timeout');
      await startLb(conf.stdout);
    });
    after(async () => {
      await nginx?.stop();
      nginx = undefined;
      for (let i = 0; i < servers.length; i++) await dropHost(i);
    });

    it('spreads requests over the three hosts', async () => {
      expect(await hostsSeen(12)).to.deep.equal(['host0', 'host1', 'host2']);
    });

    it('a rolling restart-app across the hosts under load fails no request', async () => {
      const load = lbLoad({ port: lbPort, path: '/?ms=20', clients: 4, maxPerClient: 2000, maxMs: 40000 });
      for (const [i, s] of servers.entries()) {
        const appPid = async () => (await (await fetch(`${s!.url}/`)).text()).split(' ')[1]!.trim();
        const old = await appPid();
        const r = await passengerCommand(['restart-app', '--instance-registry-dir', s!.registryDir]);
        expect(r.code, r.stderr + r.stdout).to.equal(0);
        // The next host restarts once this one serves from its new process.
        const deadline = Date.now() + 30000;
        while (await appPid() === old) {
          if (Date.now() > deadline) throw new Error(`host${i} still serves from process ${old}`);
          await new Promise((res) => setTimeout(res, 200));
        }
      }
      const result = await load.stop();
      expect(result.failures, 'failed requests').to.deep.equal([]);
      expect(result.ok).to.be.greaterThan(20);
    });

    it('a graceful stop of one host under load fails no request (drain pause, then in-flight requests finish)', async () => {
      const load = lbLoad({ port: lbPort, path: '/?ms=100', clients: 6, maxPerClient: 1000, maxMs: 30000 });
      await new Promise((r) => setTimeout(r, 800));
      const stopped = servers[0]!;
      expect(await stopped.stop('SIGTERM')).to.equal(0);
      const before = load.result.byBody.get('host0') ?? 0;
      await new Promise((r) => setTimeout(r, 1000));
      const result = await load.stop();
      expect(result.failures, 'failed requests').to.deep.equal([]);
      expect(before, 'host0 served before it stopped').to.be.greaterThan(0);
      expect(result.byBody.get('host0') ?? 0, 'nothing served by host0 after it exited').to.equal(before);
      expect(stopped.output()).to.match(/draining: \/readyz answers 503, still serving for drain_delay \(1 s\)/);
      expect(stopped.instanceDirs()).to.deep.equal([]);
      rmSync(stopped.registryDir, { recursive: true, force: true });
      servers[0] = undefined;
      await startHost(0, []);
      expect(await untilAllHostsSeen()).to.deep.equal(['host0', 'host1', 'host2']);
    });

    it('a graceful stop under POST load (which nginx never retries) fails no request: idle keep-alive connections were closed politely', async () => {
      const load = lbLoad({ port: lbPort, path: '/?ms=50', method: 'POST', clients: 6, maxPerClient: 1000, maxMs: 30000 });
      await new Promise((r) => setTimeout(r, 800));
      const stopped = servers[2]!;
      expect(await stopped.stop('SIGTERM')).to.equal(0);
      await new Promise((r) => setTimeout(r, 800));
      const result = await load.stop();
      expect(result.failures, 'failed requests').to.deep.equal([]);
      expect(result.byBody.get('host2') ?? 0).to.be.greaterThan(0);
      rmSync(stopped.registryDir, { recursive: true, force: true });
      servers[2] = undefined;
      await startHost(2, []);
      expect(await untilAllHostsSeen()).to.deep.equal(['host0', 'host1', 'host2']);
    });

    it('kill -9 of a whole host under load fails at most the requests in flight on it', async () => {
      const clients = 6;
      const load = lbLoad({ port: lbPort, path: '/?ms=100', clients, maxPerClient: 1000, maxMs: 30000 });
      await new Promise((r) => setTimeout(r, 800));
      // The host dies: every process in its namespace at once.
      for (const pid of pidsIn(hosts[1]!)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      await new Promise((r) => setTimeout(r, 1500));
      const result = await load.stop();
      // Each client has one request in flight at most; nginx retries the idempotent ones elsewhere.
      expect(result.failed, result.failures.join('\n')).to.be.at.most(clients);
      console.log(`      kill -9 of host1: ${result.ok} answered, ${result.failed} failed${result.failed ? `: ${result.failures.join('; ')}` : ''}`);
      expect(result.ok).to.be.greaterThan(20);
      await dropHost(1);
    });
  });

  describe('SCGI upstreams (TCP, one secret for all hosts)', () => {
    before(async () => {
      const secretFile = join(secretDir, 'scgi-secret');
      // One host creates the secret file; the others (sharing it, as hosts would share a deployed file) read it.
      await startHost(0, ['--scgi-address', `${hosts[0]!.address}:${SCGI_PORT}`, '--scgi-secret-file', secretFile]);
      await Promise.all([1, 2].map((i) => startHost(i, ['--scgi-address', `${hosts[i]!.address}:${SCGI_PORT}`, '--scgi-secret-file', secretFile])));
      const conf = await passengerCommand(['nginx-config', app, '--upstream-protocol', 'scgi', '--scgi-secret-file', secretFile,
        ...hosts.flatMap((h) => ['--upstream', `${h.address}:${SCGI_PORT}`])]);
      expect(conf.code, conf.stderr).to.equal(0);
      expect(conf.stdout).to.include('scgi_next_upstream error timeout');
      await startLb(conf.stdout);
    });
    after(async () => {
      await nginx?.stop();
      nginx = undefined;
      for (let i = 0; i < servers.length; i++) await dropHost(i);
    });

    it('spreads requests over the three hosts', async () => {
      expect(await hostsSeen(12)).to.deep.equal(['host0', 'host1', 'host2']);
    });

    it('a graceful stop of one host under load fails no request', async () => {
      const load = lbLoad({ port: lbPort, path: '/?ms=100', clients: 6, maxPerClient: 1000, maxMs: 30000 });
      await new Promise((r) => setTimeout(r, 800));
      expect(await servers[2]!.stop('SIGTERM')).to.equal(0);
      await new Promise((r) => setTimeout(r, 800));
      const result = await load.stop();
      expect(result.failures, 'failed requests').to.deep.equal([]);
      expect(result.byBody.get('host2') ?? 0).to.be.greaterThan(0);
    });
  });
});
