// The SCGI request handler of a real instance (passenger run), spoken to
// with raw bytes: requests in every shape nginx sends, and malformed input
// that must close the connection, log a line and leave the core serving.
import { expect } from 'chai';
import net from 'node:net';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { startPassenger, stopAndClean, fixtureApp, type RunningPassenger } from '../../../support/passenger.ts';
import { instancePath, properties, scgiSecret } from '../../admin/instance-helpers.ts';
import { parseReply, scgiExchange, scgiHead, scgiRequest, useScgiSecret } from './scgi-client.ts';

const nodeApp = fixtureApp('node-basic');
const genericApp = fixtureApp('generic-python');

describe('SCGI request handler', function () {
  this.timeout(60000);
  let p: RunningPassenger;
  let sock: string;
  let corePid: number;

  before(async () => {
    p = await startPassenger(nodeApp);
    sock = `${instancePath(p)}/request.sock`;
    corePid = properties(p).corePid!;
    useScgiSecret(scgiSecret(p));
  });
  after(async () => { useScgiSecret(undefined); await stopAndClean(p); });

  const get = (uri: string, extra: Record<string, string> = {}) => scgiRequest(sock, {
    REQUEST_METHOD: 'GET', REQUEST_URI: uri, SERVER_PROTOCOL: 'HTTP/1.1', SERVER_NAME: 'app.test', SERVER_PORT: '8080',
    HTTP_HOST: 'app.test', REMOTE_ADDR: '10.1.2.3', REMOTE_PORT: '5555', PASSENGER_APP_ROOT: nodeApp, ...extra,
  });

  describe('requests', () => {
    it('replies in CGI form with Status and the app headers; turns HTTP_* back into headers and restores the port Debian strips', async () => {
      const r = await get('/headers?x=1', { HTTP_X_CUSTOM: 'yes', HTTP_ACCEPT_LANGUAGE: 'fr' });
      expect(r.raw.toString('latin1')).to.match(/^Status: 200 OK\r\n/);
      const body = JSON.parse(r.body.toString()) as { headers: Record<string, string> };
      expect(body.headers.host).to.equal('app.test:8080');
      expect(body.headers['x-custom']).to.equal('yes');
      expect(body.headers['accept-language']).to.equal('fr');
      expect(body.headers['x-forwarded-for']).to.equal('10.1.2.3');
    });

    it('keeps X-Forwarded-* only when REMOTE_ADDR is in trusted_proxies (loopback by default)', async () => {
      const forged = { HTTP_X_FORWARDED_PROTO: 'https', HTTP_X_FORWARDED_HOST: 'shop.example', HTTP_X_FORWARDED_FOR: '203.0.113.7' };
      const outside = JSON.parse((await get('/headers', forged)).body.toString()) as { headers: Record<string, string> };
      expect(outside.headers).to.deep.include({ 'x-forwarded-proto': 'http', 'x-forwarded-host': 'app.test:8080', 'x-forwarded-for': '10.1.2.3' });
      const proxy = JSON.parse((await get('/headers', { ...forged, REMOTE_ADDR: '127.0.0.1' })).body.toString()) as { headers: Record<string, string> };
      expect(proxy.headers).to.deep.include({ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example', 'x-forwarded-for': '203.0.113.7, 127.0.0.1' });
    });

    it('streams a request body of CONTENT_LENGTH bytes to the app and ignores HTTP_TRANSFER_ENCODING', async () => {
      const data = randomBytes(3 << 20);
      const r = await scgiRequest(sock, { REQUEST_METHOD: 'POST', REQUEST_URI: '/sha256', PASSENGER_APP_ROOT: nodeApp, HTTP_TRANSFER_ENCODING: 'chunked' }, data);
      expect(r.status).to.equal(200);
      expect(JSON.parse(r.body.toString())).to.deep.equal({ bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    });

    it('streams a response without Content-Length and ends it by closing the connection', async () => {
      const r = await get('/stream');
      expect(r.headers['content-length']).to.equal(undefined);
      expect(r.headers['transfer-encoding']).to.equal(undefined);
      expect(r.body.toString()).to.equal('part 0\npart 1\npart 2\npart 3\npart 4\n');
    });

    it('passes Content-Length through when the app sends one', async () => {
      const r = await get('/download?mib=2');
      expect(r.headers['content-length']).to.equal(String(2 << 20));
      expect(r.body.length).to.equal(2 << 20);
    });

    it('serves another app named by PASSENGER_APP_ROOT from the same core', async () => {
      const r = await get('/', { PASSENGER_APP_ROOT: genericApp });
      expect(r.status).to.equal(200);
      expect(r.body.toString()).to.match(/static file served by python/);
    });

    it('answers 500 naming the parameter when PASSENGER_APP_ROOT is missing', async () => {
      const r = await scgiRequest(sock, { REQUEST_METHOD: 'GET', REQUEST_URI: '/' });
      expect(r.status).to.equal(500);
      expect(r.body.toString()).to.match(/PSG_ERR_SCGI_NO_APP.*PASSENGER_APP_ROOT/);
    });

    it('upgrades to a WebSocket with Status: 101 and tunnels bytes both ways', async () => {
      const key = Buffer.from('0123456789abcdef').toString('base64');
      const s = net.connect(sock);
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      s.write(scgiHead({ REQUEST_METHOD: 'GET', REQUEST_URI: '/', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'app.test', HTTP_UPGRADE: 'websocket', HTTP_CONNECTION: 'Upgrade', HTTP_SEC_WEBSOCKET_KEY: key, HTTP_SEC_WEBSOCKET_VERSION: '13', PASSENGER_APP_ROOT: nodeApp }));
      const waitFor = async (pred: (b: Buffer) => boolean) => { for (let i = 0; i < 200 && !pred(Buffer.concat(got)); i++) await new Promise((r) => setTimeout(r, 25)); return Buffer.concat(got); };
      const head = await waitFor((b) => b.includes('\r\n\r\n'));
      expect(head.toString('latin1')).to.match(/^Status: 101 Switching Protocols\r\n/);
      got.length = 0;
      // A masked text frame "hi".
      const mask = Buffer.from([1, 2, 3, 4]);
      const payload = Buffer.from('hi').map((b, i) => b ^ mask[i % 4]!);
      s.write(Buffer.concat([Buffer.from([0x81, 0x80 | 2]), mask, payload]));
      const frame = await waitFor((b) => b.length >= 10);
      expect(frame.subarray(2).toString()).to.equal('echo: hi');
      s.destroy();
    });
  });

  describe('whose user an app named through SCGI runs as', () => {
    const UID_APP = "require('http').createServer((q, s) => s.end(String(process.getuid()))).listen(3000);\n";
    const asRoot = process.getuid?.() === 0;
    const tmpApps: string[] = [];
    after(() => { for (const d of tmpApps) rmSync(d, { recursive: true, force: true }); });
    const appOwnedBy = (uid: number | undefined) => {
      const dir = mkdtempSync(join(tmpdir(), 'psg-owned-'));
      tmpApps.push(dir);
      writeFileSync(join(dir, 'app.js'), UID_APP);
      writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}');
      chmodSync(dir, 0o755);
      if (uid !== undefined) for (const f of ['app.js', 'package.json']) chownSync(join(dir, f), uid, uid);
      return dir;
    };

    it('runs it as the owner of its startup file (root: never as root)', async () => {
      const r = await get('/', { PASSENGER_APP_ROOT: appOwnedBy(asRoot ? 65534 : undefined) });
      expect(r.body.toString()).to.equal(asRoot ? '65534' : String(process.getuid?.()));
    });

    it('falls back to default_user (nobody) for a root-owned startup file', async () => {
      const r = await get('/', { PASSENGER_APP_ROOT: appOwnedBy(undefined) });
      expect(r.body.toString()).to.equal(asRoot ? '65534' : String(process.getuid?.()));
    });
  });

  describe('the instance secret', () => {
    for (const [what, value] of [['a wrong', 'not-the-secret'], ['an empty', '']] as const) {
      it(`closes a request with ${what} PASSENGER_SCGI_SECRET unanswered, logs it, and keeps serving`, async () => {
        const raw = await scgiExchange(sock, [scgiHead({ REQUEST_METHOD: 'GET', REQUEST_URI: '/', PASSENGER_APP_ROOT: nodeApp, PASSENGER_SCGI_SECRET: value })]);
        expect(raw.length).to.equal(0);
        await p.waitForOutput(/did not carry this instance's PASSENGER_SCGI_SECRET/);
        expect((await get('/')).status).to.equal(200);
      });
    }
  });

  describe('malformed input never takes the core down', () => {
    const cases: { name: string; chunks: Buffer[]; log: RegExp }[] = [
      { name: 'a bad netstring length', chunks: [Buffer.from('12x:CONTENT_LENGTH\x000\x00,')], log: /malformed SCGI request .*bad netstring length/ },
      { name: 'plain HTTP sent to the SCGI socket', chunks: [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')], log: /malformed SCGI request .*byte 0 is "G"/ },
      { name: 'a huge header', chunks: [scgiHead({ REQUEST_METHOD: 'GET', HTTP_COOKIE: 'x'.repeat(300 * 1024) })], log: /PSG_ERR_SCGI_TOO_LARGE/ },
      { name: 'a missing CONTENT_LENGTH', chunks: [Buffer.from('19:REQUEST_METHOD\0GET\0,')], log: /first header must be CONTENT_LENGTH/ },
      { name: 'a missing comma', chunks: [Buffer.from('17:CONTENT_LENGTH\x000\x00X')], log: /does not end with a comma/ },
      { name: 'an early disconnect inside the head', chunks: [Buffer.from('100:CONTENT_LENGTH\0')], log: /closed the connection after 19 bytes, before the SCGI request head was complete/ },
    ];
    for (const c of cases) {
      it(`closes the connection on ${c.name}, logs it, and keeps serving`, async () => {
        const reply = await scgiExchange(sock, c.chunks, { endAfterWrite: true });
        expect(reply.length, 'no reply bytes').to.equal(0);
        await p.waitForOutput(c.log, 5000);
        expect((await get('/')).status).to.equal(200);
        expect(properties(p).corePid).to.equal(corePid);
      });
    }

    it('survives a front end that goes away in the middle of a request body', async () => {
      const s = net.connect(sock);
      await new Promise((r) => s.once('connect', r));
      s.write(scgiHead({ REQUEST_METHOD: 'POST', REQUEST_URI: '/sha256', PASSENGER_APP_ROOT: nodeApp }, 1 << 20));
      s.write(Buffer.alloc(1000));
      await new Promise((r) => setTimeout(r, 200));
      s.destroy();
      await new Promise((r) => setTimeout(r, 200));
      expect((await get('/')).status).to.equal(200);
      expect(properties(p).corePid).to.equal(corePid);
    });

    it('survives a hundred malformed connections at once', async () => {
      await Promise.all(Array.from({ length: 100 }, (_, i) => scgiExchange(sock, [Buffer.from(`${i}:garbage`)], { endAfterWrite: true })));
      const r = parseReply(await scgiExchange(sock, [scgiHead({ REQUEST_METHOD: 'GET', REQUEST_URI: '/', PASSENGER_APP_ROOT: nodeApp })]));
      expect(r.status).to.equal(200);
      expect(properties(p).corePid).to.equal(corePid);
    });
  });
});
