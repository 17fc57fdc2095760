// Static files from public/: served by the core (the app never sees the
// request) with the HTTP details a web server gets right, and never a byte
// from outside the directory, whatever the path or the symlinks say.
import { expect } from 'chai';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { httpGet, rawRequest } from '../support/http-get.ts';

/** Answers every request with what it saw, and counts them: a static hit must not reach it. */
const APP_JS = `
const http = require('http');
let hits = 0;
http.createServer((req, res) => {
  if (req.url === '/hits') { res.end(String(hits)); return; }
  hits++;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ app: true, url: req.url, method: req.method }));
}).listen(process.env.PORT);
`;

const CSS = 'body { color: red }\n'.repeat(50);
const BIG = randomBytes(100_000);

function staticApp(extra: Record<string, string> = {}): string {
  return makeApp({
    'package.json': '{"name":"static-spec","main":"app.js"}',
    'app.js': APP_JS,
    'secret.txt': 'app secret: database password',
    'public/style.css': CSS,
    'public/big.bin': BIG.toString('latin1'),
    'public/docs/index.html': '<h1>docs</h1>',
    'public/assets/app-3f2a9c.js': 'fingerprinted();',
    'public/packs/pack-77aa.css': 'p{}',
    'public/app.js': 'identity();',
    'public/.env': 'SECRET=1',
    'public/.well-known/acme-challenge/token': 'acme',
    ...extra,
  });
}

describe('static files from public/', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let app: string;
  let outside: string;
  const hits = async () => Number((await httpGet(`${p!.url}/hits`)).body.toString());

  before(async () => {
    app = staticApp();
    writeFileSync(join(app, 'public/big.bin'), BIG);
    writeFileSync(join(app, 'public/app.js.br'), brotliCompressSync('identity();'));
    writeFileSync(join(app, 'public/app.js.gz'), gzipSync('identity();'));
    outside = mkdtempSync(join(tmpdir(), 'psg-outside-'));
    writeFileSync(join(outside, 'passwd'), 'outside secret');
    symlinkSync(join(outside, 'passwd'), join(app, 'public/leak.txt'));
    symlinkSync(outside, join(app, 'public/linked-dir'));
    symlinkSync('../secret.txt', join(app, 'public/relative-leak.txt'));
    symlinkSync('style.css', join(app, 'public/alias.css'));
    p = await startPassenger(app);
  });
  after(async () => {
    await stopAndClean(p);
    removeApps();
    rmSync(outside, { recursive: true, force: true });
  });

  it('serves a file with its Content-Type, ETag and Last-Modified, without the app', async () => {
    const before = await hits();
    const r = await httpGet(`${p!.url}/style.css`);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal(CSS);
    expect(r.headers['content-type']).to.equal('text/css; charset=utf-8');
    expect(r.headers['content-length']).to.equal(String(CSS.length));
    expect(r.headers.etag).to.match(/^W\/"/);
    expect(new Date(r.headers['last-modified']!).getTime()).to.be.greaterThan(0);
    expect(r.headers['cache-control']).to.equal('public, max-age=0');
    expect(await hits()).to.equal(before);
  });

  it('passes a path below a file (/style.css/more) to the app instead of failing on ENOTDIR', async () => {
    const before = await hits();
    const r = await httpGet(`${p!.url}/style.css/more`);
    expect(r.status).to.equal(200);
    expect(await hits()).to.equal(before + 1);
    // The core is still the one that served the first request (it did not crash and restart).
    expect(p!.output()).to.not.match(/core exited unexpectedly/);
  });

  it('answers 304 to If-None-Match and If-Modified-Since', async () => {
    const first = await httpGet(`${p!.url}/style.css`);
    const byEtag = await httpGet(`${p!.url}/style.css`, { 'If-None-Match': first.headers.etag! });
    expect(byEtag.status).to.equal(304);
    expect(byEtag.body.length).to.equal(0);
    const byDate = await httpGet(`${p!.url}/style.css`, { 'If-Modified-Since': first.headers['last-modified']! });
    expect(byDate.status).to.equal(304);
    const stale = await httpGet(`${p!.url}/style.css`, { 'If-None-Match': 'W/"something-else"' });
    expect(stale.status).to.equal(200);
  });

  it('answers a Range with 206 and exactly those bytes, and an unsatisfiable one with 416', async () => {
    const r = await httpGet(`${p!.url}/big.bin`, { Range: 'bytes=1000-1999' });
    expect(r.status).to.equal(206);
    expect(r.headers['content-range']).to.equal(`bytes 1000-1999/${BIG.length}`);
    expect(r.body.equals(BIG.subarray(1000, 2000))).to.equal(true);
    const suffix = await httpGet(`${p!.url}/big.bin`, { Range: 'bytes=-10' });
    expect(suffix.status).to.equal(206);
    expect(suffix.body.equals(BIG.subarray(BIG.length - 10))).to.equal(true);
    const bad = await httpGet(`${p!.url}/big.bin`, { Range: `bytes=${BIG.length + 10}-` });
    expect(bad.status).to.equal(416);
    expect(bad.headers['content-range']).to.equal(`bytes */${BIG.length}`);
    const whole = await httpGet(`${p!.url}/big.bin`);
    expect(whole.body.equals(BIG)).to.equal(true);
  });

  it('answers HEAD with the headers and no body', async () => {
    const r = await httpGet(`${p!.url}/big.bin`, {}, 'HEAD');
    expect(r.status).to.equal(200);
    expect(r.headers['content-length']).to.equal(String(BIG.length));
    expect(r.body.length).to.equal(0);
  });

  it('sends the .br or .gz sibling the client accepts, with Vary, and the original otherwise', async () => {
    const br = await httpGet(`${p!.url}/app.js`, { 'Accept-Encoding': 'gzip, br' });
    expect(br.headers['content-encoding']).to.equal('br');
    expect(br.body.equals(brotliCompressSync('identity();'))).to.equal(true);
    expect(br.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(br.headers.vary).to.equal('Accept-Encoding');
    const gz = await httpGet(`${p!.url}/app.js`, { 'Accept-Encoding': 'br;q=0, gzip' });
    expect(gz.headers['content-encoding']).to.equal('gzip');
    expect(gz.body.equals(gzipSync('identity();'))).to.equal(true);
    const plain = await httpGet(`${p!.url}/app.js`);
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(plain.body.toString()).to.equal('identity();');
    expect(plain.headers.vary).to.equal('Accept-Encoding');
    // No sibling: nothing varies.
    expect((await httpGet(`${p!.url}/style.css`, { 'Accept-Encoding': 'br' })).headers.vary).to.equal(undefined);
  });

  it('caches fingerprinted assets (public/assets, public/packs) for a year', async () => {
    for (const path of ['/assets/app-3f2a9c.js', '/packs/pack-77aa.css']) {
      const r = await httpGet(`${p!.url}${path}`);
      expect(r.status, path).to.equal(200);
      expect(r.headers['cache-control'], path).to.equal('public, max-age=31536000, immutable');
    }
  });

  it('answers a whole file from memory with the headers send gives it (If-Match goes through send)', async () => {
    const unconditional = (h: Record<string, string | string[] | undefined>) => {
      const { date, connection, 'keep-alive': _k, ...rest } = h;
      return rest;
    };
    for (const [path, headers] of [['/style.css', {}], ['/big.bin', {}], ['/assets/app-3f2a9c.js', {}], ['/app.js', { 'Accept-Encoding': 'br' }]] as const) {
      await httpGet(`${p!.url}${path}`, headers);
      const cached = await httpGet(`${p!.url}${path}`, headers);
      // A precondition is send's to check; with If-Match: * it answers 200 with the whole file.
      const sent = await httpGet(`${p!.url}${path}`, { ...headers, 'If-Match': '*' });
      expect(sent.status, path).to.equal(200);
      expect(unconditional(cached.headers), path).to.deep.equal(unconditional(sent.headers));
      expect(cached.body.equals(sent.body), path).to.equal(true);
    }
  });

  it('answers 304 from memory by the rules of RFC 9110: any tag of a list, weak or strong, *, and not to Cache-Control: no-cache', async () => {
    const first = await httpGet(`${p!.url}/style.css`);
    const etag = first.headers.etag!;
    const cases: [Record<string, string>, number][] = [
      [{ 'If-None-Match': `"other", ${etag}` }, 304],
      [{ 'If-None-Match': etag.slice(2) }, 304],
      [{ 'If-None-Match': '*' }, 304],
      [{ 'If-None-Match': etag, 'Cache-Control': 'max-age=0, no-cache' }, 200],
      // If-None-Match decides: a current If-Modified-Since does not make a stale tag fresh.
      [{ 'If-None-Match': '"other"', 'If-Modified-Since': first.headers['last-modified']! }, 200],
      [{ 'If-Modified-Since': new Date(Date.parse(first.headers['last-modified']!) - 1000).toUTCString() }, 200],
      [{ 'If-Modified-Since': 'not a date' }, 200],
    ];
    for (const [headers, status] of cases) {
      const r = await httpGet(`${p!.url}/style.css`, headers);
      expect(r.status, JSON.stringify(headers)).to.equal(status);
      expect(r.body.toString(), JSON.stringify(headers)).to.equal(status === 200 ? CSS : '');
      if (status === 304) {
        expect(r.headers.etag).to.equal(etag);
        expect(r.headers['content-type'], 'a 304 has no Content-* headers').to.equal(undefined);
      }
    }
  });

  it('refuses a path that was served once and now is a symlink out of public/ (no answer from memory)', async () => {
    const path = join(app, 'public/swapped.txt');
    // As long as the file outside, so that only which file it is tells them apart.
    writeFileSync(path, 'inside content');
    for (let i = 0; i < 3; i++) expect((await httpGet(`${p!.url}/swapped.txt`)).body.toString()).to.equal('inside content');
    rmSync(path);
    symlinkSync(join(outside, 'passwd'), path);
    const r = await httpGet(`${p!.url}/swapped.txt`);
    expect(r.status).to.equal(404);
    expect(r.body.toString()).to.not.include('outside secret');
    // A current ETag changes nothing: the path leads to another file now.
    expect((await httpGet(`${p!.url}/swapped.txt`, { 'If-None-Match': '*' })).status).to.equal(404);
  });

  it('uses a compressed sibling added later within a second, and stops at once when it is removed', async () => {
    writeFileSync(join(app, 'public/late.js'), 'late();');
    const plain = await httpGet(`${p!.url}/late.js`, { 'Accept-Encoding': 'br' });
    expect(plain.headers['content-encoding']).to.equal(undefined);
    expect(plain.headers.vary).to.equal(undefined);
    writeFileSync(join(app, 'public/late.js.br'), brotliCompressSync('late();'));
    const deadline = Date.now() + 3000;
    let r = plain;
    while (Date.now() < deadline && r.headers['content-encoding'] !== 'br') {
      await new Promise((done) => setTimeout(done, 100));
      r = await httpGet(`${p!.url}/late.js`, { 'Accept-Encoding': 'br' });
    }
    expect(r.headers['content-encoding']).to.equal('br');
    expect(r.headers.vary).to.equal('Accept-Encoding');
    expect((await httpGet(`${p!.url}/late.js`, { 'Accept-Encoding': 'br' })).body.equals(brotliCompressSync('late();'))).to.equal(true);
    rmSync(join(app, 'public/late.js.br'));
    const after = await httpGet(`${p!.url}/late.js`, { 'Accept-Encoding': 'br' });
    expect(after.headers['content-encoding']).to.equal(undefined);
    expect(after.body.toString()).to.equal('late();');
  });

  it('serves a file as it is now after it changed in place (same size, mtime put back)', async () => {
    const path = join(app, 'public/changing.txt');
    writeFileSync(path, 'version 1');
    // Whole seconds, which utimes puts back exactly.
    utimesSync(path, 1_000_000, 1_000_000);
    expect((await httpGet(`${p!.url}/changing.txt`)).body.toString()).to.equal('version 1');
    expect((await httpGet(`${p!.url}/changing.txt`)).body.toString()).to.equal('version 1');
    writeFileSync(path, 'version 2');
    utimesSync(path, 1_000_000, 1_000_000);
    expect(statSync(path).mtimeMs).to.equal(1_000_000_000);
    expect((await httpGet(`${p!.url}/changing.txt`)).body.toString()).to.equal('version 2');
  });

  it('serves index.html for a directory, after a redirect to its slash form', async () => {
    const r = await httpGet(`${p!.url}/docs/`);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal('<h1>docs</h1>');
    expect(r.headers['content-type']).to.equal('text/html; charset=utf-8');
    const redirect = await httpGet(`${p!.url}/docs?x=1`);
    expect(redirect.status).to.equal(301);
    expect(redirect.headers.location).to.equal('/docs/?x=1');
  });

  it('leaves missing files, other methods, dot files and the root without index.html to the app', async () => {
    for (const [method, path] of [['GET', '/nope.css'], ['POST', '/style.css'], ['GET', '/.env'], ['GET', '/'], ['GET', '/style.css/']] as const) {
      const r = await httpGet(`${p!.url}${path}`, {}, method);
      expect(JSON.parse(r.body.toString()), `${method} ${path}`).to.deep.equal({ app: true, url: path, method });
    }
    expect((await httpGet(`${p!.url}/.well-known/acme-challenge/token`)).body.toString()).to.equal('acme');
  });

  it('serves a symlink that stays inside public/', async () => {
    const r = await httpGet(`${p!.url}/alias.css`);
    expect(r.status).to.equal(200);
    expect(r.body.toString()).to.equal(CSS);
  });

  it('never serves a symlink that leads out of public/: 404', async () => {
    for (const path of ['/leak.txt', '/linked-dir/passwd', '/relative-leak.txt']) {
      const r = await httpGet(`${p!.url}${path}`);
      expect(r.status, path).to.equal(404);
      expect(r.body.toString(), path).to.not.match(/secret/);
    }
    await p!.waitForOutput(/not serving .*leak\.txt: it leads out of the static directory/);
  });

  it('refuses .. above the root, raw or percent-encoded, and NUL, with 400', async () => {
    for (const target of ['/../secret.txt', '/%2e%2e/secret.txt', '/docs/%2E%2E/%2e%2e/secret.txt', '/docs/../../secret.txt', '/style.css%00.txt', '/%00']) {
      const out = await rawRequest(p!.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(out, target).to.match(/^HTTP\/1\.1 400 /);
      expect(out, target).to.not.include('secret:');
    }
    // A raw NUL never gets past the HTTP parser.
    expect(await rawRequest(p!.port, 'GET /style.css\0 HTTP/1.1\r\nHost: x\r\n\r\n')).to.match(/^HTTP\/1\.1 400 /);
  });

  it('resolves .. that stays inside public/, and leaves encoded slashes to the app', async () => {
    const inside = await rawRequest(p!.port, 'GET /docs/%2e%2e/style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(inside).to.match(/^HTTP\/1\.1 200 /);
    expect(inside).to.include('body { color: red }');
    for (const target of ['/..%2fsecret.txt', '/docs%2f..%2f..%2fsecret.txt', '/docs%2Findex.html']) {
      const out = await rawRequest(p!.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(out, target).to.include('"app":true');
      expect(out, target).to.not.include('secret:');
    }
  });

  it('as root serves only files anyone may read (otherwise: any readable file), even one it served before', async () => {
    writeFileSync(join(app, 'public/private.txt'), 'private');
    chmodSync(join(app, 'public/private.txt'), 0o600);
    const r = await httpGet(`${p!.url}/private.txt`);
    if (process.getuid!() === 0) expect(r.status).to.equal(404);
    else expect(r.body.toString()).to.equal('private');
    writeFileSync(join(app, 'public/was-public.txt'), 'was public');
    for (let i = 0; i < 3; i++) expect((await httpGet(`${p!.url}/was-public.txt`)).body.toString()).to.equal('was public');
    chmodSync(join(app, 'public/was-public.txt'), 0o600);
    const now = await httpGet(`${p!.url}/was-public.txt`);
    const revalidated = await httpGet(`${p!.url}/was-public.txt`, { 'If-None-Match': '*' });
    if (process.getuid!() === 0) {
      expect(now.status).to.equal(404);
      expect(revalidated.status).to.equal(404);
    } else {
      expect(now.body.toString()).to.equal('was public');
      expect(revalidated.status).to.equal(304);
    }
  });
});

describe('static files: options and a directory that appears later', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; removeApps(); });

  it('static_files off: the app gets every request', async () => {
    p = await startPassenger(staticApp(), { args: ['--no-static-files'] });
    const r = await httpGet(`${p.url}/style.css`);
    expect(JSON.parse(r.body.toString())).to.deep.equal({ app: true, url: '/style.css', method: 'GET' });
  });

  it('static_files_dir: serves from that directory, noticed within a second when created after start', async () => {
    const app = staticApp();
    p = await startPassenger(app, { args: ['--static-files-dir', 'web'] });
    // public/ is not the static directory now, and web/ does not exist yet.
    expect((await httpGet(`${p.url}/style.css`)).body.toString()).to.include('"app":true');
    mkdirSync(join(app, 'web'));
    writeFileSync(join(app, 'web/late.txt'), 'late file');
    const deadline = Date.now() + 5000;
    let body = '';
    while (Date.now() < deadline) {
      body = (await httpGet(`${p.url}/late.txt`)).body.toString();
      if (body === 'late file') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(body).to.equal('late file');
  });

  it('as root, a static directory that is a symlink out of the app is not used', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'psg-outside-'));
    try {
      writeFileSync(join(outside, 'shadow.txt'), 'outside the app');
      const app = makeApp({ 'package.json': '{"name":"static-spec","main":"app.js"}', 'app.js': APP_JS });
      symlinkSync(outside, join(app, 'public'));
      p = await startPassenger(app);
      const body = (await httpGet(`${p.url}/shadow.txt`)).body.toString();
      if (process.getuid!() === 0) expect(body).to.include('"app":true');
      else expect(body).to.equal('outside the app');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
