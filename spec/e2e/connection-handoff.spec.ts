// connection_handoff: the built-in engine hands plain-HTTP client connections
// to the Node app processes, which serve them on the client's own socket.
// The proof is what the app sees: the client's address and port on its
// socket (through the core it would see a Unix socket and X-Forwarded-For).
import { expect } from 'chai';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { httpGet } from '../support/http-get.ts';
import getPort from 'get-port';
import { makeApp, removeApps } from '../support/tmp-app.ts';

const NODE_APP = {
  'package.json': '{"name":"handoff-app","main":"server.js"}',
  'server.js': `
const http = require('node:http');
http.createServer((req, res) => {
  const answer = () => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({
      pid: process.pid, remoteAddress: req.socket.remoteAddress ?? null, remotePort: req.socket.remotePort ?? null,
      forwardedFor: req.headers['x-forwarded-for'] ?? null,
    }));
  };
  if (req.url === '/die') {
    // Drops this connection, then stays busy (reading nothing, not even its IPC channel) for a while and exits.
    req.socket.destroy();
    const until = Date.now() + 700;
    while (Date.now() < until);
    process.exit(1);
  }
  if (req.url === '/slow') setTimeout(answer, 1500); else answer();
}).listen(3000);
`,
};

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

interface Seen { pid: number; remoteAddress: string | null; remotePort: number | null; forwardedFor: string | null }

/** A GET on `agent`; resolves with what the app saw and the client's own local port. */
function get(url: string, agent: http.Agent): Promise<{ seen: Seen; localPort: number; status: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => {
        try {
          resolve({ seen: JSON.parse(body) as Seen, localPort: req.socket!.localPort!, status: res.statusCode! });
        } catch (e) {
          reject(new Error(`not JSON (${res.statusCode}): ${body.slice(0, 200)}`, { cause: e }));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    // A lost connection fails the spec here rather than at mocha's timeout.
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer within 10 s: ${url}`)));
  });
}

describe('connection_handoff (Node apps)', function () {
  this.timeout(60_000);
  let p: RunningPassenger | undefined;
  /** The server of a test that starts its own. */
  let q: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(q); q = undefined; });
  after(() => removeApps());

  describe('with two processes', () => {
    let metricsPort = 0;
    before(async () => {
      metricsPort = await getPort({ host: '127.0.0.1' });
      p = await startPassenger(makeApp(NODE_APP), { args: ['--connection-handoff', '--min-instances', '2', '--max-pool-size', '2', '--metrics-address', `127.0.0.1:${metricsPort}`] });
    });
    after(async () => { await stopAndClean(p); p = undefined; });

    it("serves the request in the app process on the client's own socket", async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const r = await get(`${p!.url}/`, agent);
        expect(r.status).to.equal(200);
        expect(r.seen.remoteAddress).to.match(/^(::ffff:)?127\.0\.0\.1$/);
        expect(r.seen.remotePort).to.equal(r.localPort);
        expect(r.seen.forwardedFor, 'no X-Forwarded-For: the core did not proxy it').to.equal(null);
      } finally { agent.destroy(); }
    });

    it('keeps every request of a keep-alive connection in one process', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const answers = [];
        for (let i = 0; i < 6; i++) answers.push(await get(`${p!.url}/`, agent));
        expect(new Set(answers.map((a) => a.localPort)).size, 'one client connection').to.equal(1);
        expect(new Set(answers.map((a) => a.seen.pid)).size).to.equal(1);
        expect(answers.every((a) => a.seen.remotePort === a.localPort)).to.equal(true);
      } finally { agent.destroy(); }
    });

    it('counts the connections each process holds in passenger status and /metrics', async () => {
      const agents = [0, 1, 2].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
      try {
        const byPid = new Map<number, number>();
        for (const agent of agents) {
          const r = await get(`${p!.url}/`, agent);
          byPid.set(r.seen.pid, (byPid.get(r.seen.pid) ?? 0) + 1);
        }
        const reg = ['--instance-registry-dir', p!.registryDir];
        // Connections of the tests before, closed by their clients, are reported closed by the processes a moment later.
        const counted = async () => {
          const json = await passengerCommand(['status', '--json', ...reg]);
          expect(json.code, json.stderr).to.equal(0);
          const processes = (JSON.parse(json.stdout) as { pool: { groups: { processes: { pid: number; handedConnections: number }[] }[] } }).pool.groups[0]!.processes;
          return new Map(processes.map((x) => [x.pid, x.handedConnections]));
        };
        const metricsText = async () => (await httpGet(`http://127.0.0.1:${metricsPort}/metrics`)).body.toString();
        const metricFor = (text: string, pid: number) => Number(new RegExp(`^passenger_process_handed_connections\\{app="[^"]+",pid="${pid}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
        const deadline = Date.now() + 10_000;
        let status = await counted();
        let metrics = await metricsText();
        const matches = () => [...byPid].every(([pid, n]) => status.get(pid) === n && metricFor(metrics, pid) === n);
        while (!matches() && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          status = await counted();
          metrics = await metricsText();
        }
        for (const [pid, count] of byPid) {
          expect(status.get(pid), `process ${pid} in passenger status --json`).to.equal(count);
          expect(metricFor(metrics, pid), `process ${pid} in /metrics`).to.equal(count);
        }
        expect((await passengerCommand(['status', ...reg])).stdout).to.match(/\+\d+ conn/);
        // The status page's process rows too.
        const page = (await httpGet(`http://127.0.0.1:${metricsPort}/?part=main`)).body.toString();
        for (const [pid, count] of byPid) expect(page).to.match(new RegExp(`<td>${pid}</td>.*?\\+${count} conn</span>`));
      } finally { for (const a of agents) a.destroy(); }
    });

    it('gives connections to both processes (the one with fewer open connections first)', async () => {
      const agents: http.Agent[] = [];
      const pids = new Set<number>();
      const deadline = Date.now() + 20_000;
      try {
        // The second process may still be starting: keep connections open until both have some.
        while (pids.size < 2 && Date.now() < deadline) {
          const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
          agents.push(agent);
          const r = await get(`${p!.url}/`, agent);
          expect(r.seen.remotePort).to.equal(r.localPort);
          pids.add(r.seen.pid);
          if (pids.size < 2) await new Promise((res) => setTimeout(res, 100));
        }
      } finally { for (const a of agents) a.destroy(); }
      expect(pids.size).to.equal(2);
    });
  });

  it('lets a request in flight on a handed-off connection finish when the server stops', async () => {
    q = await startPassenger(makeApp(NODE_APP), { args: ['--connection-handoff', '--min-instances', '1'] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const slow = get(`${q.url}/slow`, agent);
      await new Promise((res) => setTimeout(res, 300));
      const stopped = q.stop();
      const r = await slow;
      expect(r.status).to.equal(200);
      expect(r.seen.remotePort).to.equal(r.localPort);
      expect(await stopped).to.equal(0);
    } finally { agent.destroy(); }
  });

  it('on restart.txt, gives new connections to the new process; the old one exits once its connections are idle', async () => {
    const dir = makeApp(NODE_APP);
    q = await startPassenger(dir, { args: ['--connection-handoff', '--min-instances', '1'] });
    const agents: http.Agent[] = [];
    const connection = () => { const a = new http.Agent({ keepAlive: true, maxSockets: 1 }); agents.push(a); return a; };
    try {
      const first = await get(`${q.url}/`, connection());
      expect(first.seen.remotePort).to.equal(first.localPort);
      mkdirSync(join(dir, 'tmp'));
      writeFileSync(join(dir, 'tmp/restart.txt'), '');
      // restart.txt is looked at once a second at most: new connections until one reaches another process.
      let next = first;
      const deadline = Date.now() + 20_000;
      while (next.seen.pid === first.seen.pid && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 200));
        next = await get(`${q.url}/`, connection());
      }
      expect(next.seen.pid).not.to.equal(first.seen.pid);
      expect(next.seen.remotePort).to.equal(next.localPort);
      while (isAlive(first.seen.pid) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
      expect(isAlive(first.seen.pid), 'the old process exited although its client kept the connection').to.equal(false);
    } finally { for (const a of agents) a.destroy(); }
  });

  it('offers a connection its process did not take before dying to the process started in its place', async () => {
    q = await startPassenger(makeApp(NODE_APP), { args: ['--connection-handoff', '--min-instances', '1', '--max-pool-size', '1'] });
    const agents: http.Agent[] = [];
    const connection = () => { const a = new http.Agent({ keepAlive: true, maxSockets: 1 }); agents.push(a); return a; };
    try {
      const before = await get(`${q.url}/`, connection());
      await get(`${q.url}/die`, connection()).then(() => { throw new Error('/die answered'); }, (e: NodeJS.ErrnoException) => expect(e.code).to.equal('ECONNRESET'));
      // Sent to the busy process, which dies without reading it: the core still holds the connection, unread.
      const after = await get(`${q.url}/`, connection()).catch((e) => { throw e; });
      expect(after.status).to.equal(200);
      expect(after.seen.pid).not.to.equal(before.seen.pid);
      expect(after.seen.remotePort).to.equal(after.localPort);
    } finally { for (const a of agents) a.destroy(); }
  });

  it('is ignored, with a warning naming the option and the app type, for an app type whose loader cannot take connections', async () => {
    const dir = makeApp({ 'config.ru': 'run ->(env) { [200, { "content-type" => "text/plain" }, ["served by rack"]] }\n' });
    q = await startPassenger(dir, { args: ['--connection-handoff'] });
    await q.waitForOutput(/connection_handoff is ignored: the loader of app type "rack"/);
    const agent = new http.Agent({ keepAlive: false });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        http.get(`${q!.url}/`, { agent }, (res) => { let b = ''; res.on('data', (c) => { b += String(c); }); res.on('end', () => resolve(b)); }).on('error', reject);
      });
      expect(body).to.equal('served by rack');
    } finally { agent.destroy(); }
  });
});
