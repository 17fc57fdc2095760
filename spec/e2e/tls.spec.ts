// TLS and HTTP/2 in the built-in engine, with a real CA made by openssl and
// real clients: curl over HTTP/1.1 and HTTP/2, a WebSocket over TLS, and a
// keep-alive connection that survives a certificate reload.
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import getPort from 'get-port';
import WebSocket from 'ws';
import { fixtureApp, repoRoot, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { httpGet } from '../support/http-get.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { adminRequest } from '../../core/admin/client.ts';
import { instancePath, password, properties, waitFor } from '../core/admin/instance-helpers.ts';

const run = promisify(execFile);

const APP_JS = `
const http = require('http');
const { WebSocketServer } = require(${JSON.stringify(join(repoRoot, 'node_modules/ws'))});
const server = http.createServer((req, res) => {
  let bytes = 0;
  req.on('data', (d) => { bytes += d.length; });
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('Connection', 'keep-alive');
    res.end(JSON.stringify({ url: req.url, method: req.method, bytes, proto: req.headers['x-forwarded-proto'], host: req.headers.host }));
  });
});
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (m) => ws.send('echo: ' + m)));
server.listen(process.env.PORT);
`;

function tlsApp(): string {
  return makeApp({ 'package.json': '{"name":"tls-spec","main":"app.js"}', 'app.js': APP_JS, 'public/hello.txt': 'static over TLS\n' });
}

/** curl with the spec's CA; the last output line is the HTTP version curl used. */
async function curl(ca: TestCa, args: string[], input?: string): Promise<{ body: string; version: string }> {
  const child = run('curl', ['-sS', '--cacert', ca.caCert, '-w', '\n%{http_version}', ...args], { timeout: 20000 });
  if (input !== undefined) { child.child.stdin!.end(input); }
  const { stdout } = await child;
  const at = stdout.lastIndexOf('\n');
  return { body: stdout.slice(0, at), version: stdout.slice(at + 1) };
}

/** The common name of the certificate a new TLS connection is shown. */
function servedCommonName(port: number, ca: TestCa): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(ca.caCert) }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.end();
      resolve(Array.isArray(cn) ? cn.join(',') : cn ?? '');
    });
    s.on('error', reject);
  });
}

/** One TLS connection kept open: each call sends a keep-alive request on it and reads one response. */
function keepAliveConnection(port: number, ca: TestCa): Promise<{ get(path: string): Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(ca.caCert), ALPNProtocols: ['http/1.1'] }, () => {
      resolve({
        get(path) {
          return new Promise((res, rej) => {
            let text = '';
            const onData = (d: Buffer) => {
              text += d.toString();
              const m = /content-length: (\d+)\r\n[\s\S]*?\r\n\r\n([\s\S]*)$/i.exec(text);
              if (m && Buffer.byteLength(m[2]!) >= Number(m[1])) { s.off('data', onData); res(text); }
            };
            s.on('data', onData);
            s.once('close', () => rej(new Error(`the connection closed; got: ${text}`)));
            s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
          });
        },
        close() { s.end(); },
      });
    });
    s.on('error', reject);
  });
}

describe('TLS and HTTP/2: ssl on port', function () {
  this.timeout(60000);
  let ca: TestCa;
  let first: { cert: string; key: string };
  let second: { cert: string; key: string };
  let certPath: string;
  let keyPath: string;
  let p: RunningPassenger | undefined;
  let https: string;

  before(async () => {
    ca = makeTestCa();
    first = ca.issue('localhost-one');
    second = ca.issue('localhost-two');
    // The server reads these paths; the reload specs overwrite them.
    certPath = join(ca.dir, 'live.pem');
    keyPath = join(ca.dir, 'live.key');
    copyFileSync(first.cert, certPath);
    copyFileSync(first.key, keyPath);
    p = await startPassenger(tlsApp(), { args: ['--ssl', '--ssl-certificate', certPath, '--ssl-certificate-key', keyPath] });
    https = `https://localhost:${p.port}`;
  });
  after(async () => {
    await stopAndClean(p);
    removeApps();
    ca.remove();
  });

  it('prints an https:// URL', () => {
    expect(p!.output()).to.match(new RegExp(`serving .* on https://127\\.0\\.0\\.1:${p!.port}/`));
  });

  it('curl here supports HTTP/2 (the next specs rely on it)', () => {
    expect(execFileSync('curl', ['-V']).toString()).to.match(/^Features:.*\bHTTP2\b/m);
  });

  it('serves HTTPS over HTTP/1.1, and the app sees X-Forwarded-Proto: https', async () => {
    const r = await curl(ca, ['--http1.1', `${https}/a?b=1`]);
    expect(r.version).to.equal('1.1');
    expect(JSON.parse(r.body)).to.deep.include({ url: '/a?b=1', method: 'GET', proto: 'https', host: `localhost:${p!.port}` });
  });

  it('serves HTTP/2 chosen by ALPN, with request bodies of known and unknown length', async () => {
    const r = await curl(ca, ['--http2', `${https}/h2`]);
    expect(r.version).to.equal('2');
    expect(JSON.parse(r.body)).to.deep.include({ url: '/h2', proto: 'https', host: `localhost:${p!.port}` });
    const sized = await curl(ca, ['--http2', '--data-binary', 'x'.repeat(100_000), `${https}/upload`]);
    expect(JSON.parse(sized.body)).to.deep.include({ method: 'POST', bytes: 100_000 });
    // -T - streams stdin: no Content-Length, the HTTP/2 framing alone ends the body.
    const streamed = await curl(ca, ['--http2', '-X', 'POST', '-T', '-', `${https}/upload`], 'y'.repeat(70_000));
    expect(streamed.version).to.equal('2');
    expect(JSON.parse(streamed.body)).to.deep.include({ method: 'POST', bytes: 70_000 });
  });

  it('serves static files over HTTP/2, with ranges', async () => {
    const r = await curl(ca, ['--http2', '-H', 'Range: bytes=7-9', `${https}/hello.txt`]);
    expect(r.version).to.equal('2');
    expect(r.body).to.equal('ove');
  });

  it('carries a WebSocket over TLS (HTTP/1.1)', async () => {
    const ws = new WebSocket(`wss://localhost:${p!.port}/ws`, { ca: readFileSync(ca.caCert) });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('over tls'));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    expect(reply).to.equal('echo: over tls');
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const failed = await httpGet(`http://127.0.0.1:${p!.port}/`).then(() => false, () => true);
    expect(failed).to.equal(true);
  });

  it('reloads the certificate through the admin API without dropping an open keep-alive connection', async () => {
    expect(await servedCommonName(p!.port, ca)).to.equal('localhost-one');
    const conn = await keepAliveConnection(p!.port, ca);
    expect(await conn.get('/before')).to.match(/^HTTP\/1\.1 200 [\s\S]*"url":"\/before"/);
    copyFileSync(second.cert, certPath);
    copyFileSync(second.key, keyPath);
    const r = await adminRequest<{ reloaded: boolean; certificate: string }>(join(instancePath(p!), 'admin.sock'), password(p!, 'full'), 'POST', '/tls/reload');
    expect(r.status).to.equal(200);
    expect(r.body.certificate).to.include('CN=localhost-two');
    expect(await conn.get('/after')).to.match(/^HTTP\/1\.1 200 [\s\S]*"url":"\/after"/);
    conn.close();
    expect(await servedCommonName(p!.port, ca)).to.equal('localhost-two');
  });

  it('keeps the old certificate when the new files are bad, and says why', async () => {
    writeFileSync(keyPath, 'not a key');
    const r = await adminRequest<{ code: string; error: string }>(join(instancePath(p!), 'admin.sock'), password(p!, 'full'), 'POST', '/tls/reload');
    expect(r.status).to.equal(422);
    expect(r.body.code).to.equal('PSG_ERR_TLS_CERTIFICATE');
    expect(r.body.error).to.include(`ssl_certificate_key ${keyPath}: is not in PEM format`);
    expect(await servedCommonName(p!.port, ca)).to.equal('localhost-two');
  });

  it('reloads on SIGHUP to the core', async () => {
    copyFileSync(first.cert, certPath);
    copyFileSync(first.key, keyPath);
    process.kill(properties(p!).corePid!, 'SIGHUP');
    await p!.waitForOutput(/TLS certificate reloaded: CN=localhost-one/);
    expect(await servedCommonName(p!.port, ca)).to.equal('localhost-one');
    // Still serving after the signal.
    expect((await curl(ca, ['--http2', `${https}/still`])).body).to.include('"url":"/still"');
  });

  it('reloads on SIGHUP to the watchdog, which passes the reload on (systemctl reload)', async () => {
    copyFileSync(second.cert, certPath);
    copyFileSync(second.key, keyPath);
    expect(await servedCommonName(p!.port, ca)).to.equal('localhost-one');
    process.kill(properties(p!).watchdogPid, 'SIGHUP');
    // The admin API's reload logged this name before, so the served certificate is what tells.
    await waitFor(async () => (await servedCommonName(p!.port, ca)) === 'localhost-two', 10000, 'the new certificate');
    expect((await curl(ca, ['--http2', `${https}/still`])).body).to.include('"url":"/still"');
  });
});

describe('TLS: ssl_port next to plain HTTP, with ssl_redirect', function () {
  this.timeout(60000);
  let ca: TestCa;
  let p: RunningPassenger | undefined;
  let sslPort: number;

  before(async () => {
    ca = makeTestCa();
    const { cert, key } = ca.issue('localhost');
    sslPort = await getPort({ host: '127.0.0.1' });
    p = await startPassenger(tlsApp(), { args: ['--ssl', '--ssl-certificate', cert, '--ssl-certificate-key', key, '--ssl-port', String(sslPort), '--ssl-redirect'] });
  });
  after(async () => {
    await stopAndClean(p);
    removeApps();
    ca.remove();
  });

  it('serves HTTPS and HTTP/2 on ssl_port', async () => {
    const r = await curl(ca, ['--http2', `https://localhost:${sslPort}/on-ssl-port`]);
    expect(r.version).to.equal('2');
    expect(JSON.parse(r.body)).to.deep.include({ url: '/on-ssl-port', proto: 'https' });
    expect(p!.output()).to.include(`and https://127.0.0.1:${sslPort}/`);
  });

  it('redirects plain HTTP on port to HTTPS: 301 for GET, 308 for POST', async () => {
    const get = await httpGet(`http://127.0.0.1:${p!.port}/page?x=1`);
    expect(get.status).to.equal(301);
    expect(get.headers.location).to.equal(`https://127.0.0.1:${sslPort}/page?x=1`);
    const post = await httpGet(`http://localhost:${p!.port}/form`, {}, 'POST');
    expect(post.status).to.equal(308);
    expect(post.headers.location).to.equal(`https://localhost:${sslPort}/form`);
    // A client that follows it ends at the app over TLS.
    const followed = await curl(ca, ['-L', `http://localhost:${p!.port}/followed`]);
    expect(JSON.parse(followed.body)).to.deep.include({ url: '/followed', proto: 'https' });
  });

  it('serves both ports again after the core is killed (the watchdog holds both sockets)', async () => {
    process.kill(properties(p!).corePid!, 'SIGKILL');
    await p!.waitForOutput(/core restarted \(pid \d+\) and serving again/, 30000);
    const r = await curl(ca, ['--http2', `https://localhost:${sslPort}/after-restart`]);
    expect(JSON.parse(r.body)).to.deep.include({ url: '/after-restart', proto: 'https' });
    expect((await httpGet(`http://127.0.0.1:${p!.port}/x`)).status).to.equal(301);
  });
});

describe('TLS: a CGI-style app (Rack) learns the request came over HTTPS', function () {
  this.timeout(60000);
  let ca: TestCa;
  let p: RunningPassenger | undefined;
  before(async () => {
    ca = makeTestCa();
    const { cert, key } = ca.issue('localhost');
    p = await startPassenger(fixtureApp('rack-basic'), { args: ['--ssl', '--ssl-certificate', cert, '--ssl-certificate-key', key] });
  });
  after(async () => { await stopAndClean(p); ca.remove(); });

  it('HTTPS=on makes rack.url_scheme https, over HTTP/2', async () => {
    const r = await curl(ca, ['--http2', `https://localhost:${p!.port}/env`]);
    expect(r.version).to.equal('2');
    expect(JSON.parse(r.body)).to.deep.include({ url_scheme: 'https' });
  });
});

describe('TLS: certificate errors at start name the file and the reason', function () {
  this.timeout(60000);
  let ca: TestCa;
  let good: { cert: string; key: string };
  let other: { cert: string; key: string };
  before(() => {
    ca = makeTestCa();
    good = ca.issue('localhost');
    other = ca.issue('someone-else');
    writeFileSync(join(ca.dir, 'garbage.pem'), 'this is not a certificate\n');
  });
  after(() => { removeApps(); ca.remove(); });

  const cases: [string, () => string[], () => RegExp][] = [
    ['a missing certificate', () => [join(ca.dir, 'missing.pem'), good.key], () => new RegExp(`ssl_certificate ${join(ca.dir, 'missing.pem')}: no such file`)],
    ['a file that is not PEM', () => [join(ca.dir, 'garbage.pem'), good.key], () => new RegExp(`ssl_certificate ${join(ca.dir, 'garbage.pem')}: is not in PEM format`)],
    ['a key that does not match', () => [good.cert, other.key], () => new RegExp(`ssl_certificate_key ${other.key}: does not match the certificate in ${good.cert}`)],
  ];
  for (const [what, files, message] of cases) {
    it(`refuses to start with ${what}`, async () => {
      const [cert, key] = files();
      const p = await startPassenger(tlsApp(), { args: ['--ssl', '--ssl-certificate', cert!, '--ssl-certificate-key', key!], expectExit: true });
      expect(p.child.exitCode).to.equal(2);
      expect(p.output()).to.match(message());
      expect(p.output()).to.include('PSG_ERR_TLS_CERTIFICATE');
      await stopAndClean(p);
    });
  }
});
