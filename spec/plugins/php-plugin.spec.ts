// passenger-plugin-php as an outside user gets it: packed with `npm pack`,
// installed from the tarball into a temporary app next to passenger-ts, and
// named in the app's .passengerrc.json. The real server serves real PHP
// through php-fpm (and php-cgi) over the plugin's own FastCGI protocol.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { mochaCommand, npmInstall, packedTarball } from '../support/packed.ts';

const pluginDir = join(repoRoot, 'examples/plugins/php');
const BIG_BYTES = 20 * 1024 * 1024;

const FRONT_CONTROLLER = `<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
switch ($path) {
  case '/':
    echo 'hello from PHP via ', PHP_SAPI;
    break;
  case '/info':
    header('Content-Type: application/json');
    $keys = ['SCRIPT_FILENAME', 'SCRIPT_NAME', 'PATH_INFO', 'QUERY_STRING', 'REQUEST_METHOD', 'HTTPS', 'REMOTE_ADDR',
      'SERVER_NAME', 'SERVER_PORT', 'HTTP_X_CUSTOM', 'HTTP_PROXY', 'CONTENT_TYPE', 'DOCUMENT_ROOT'];
    $out = [];
    foreach ($keys as $k) $out[$k] = $_SERVER[$k] ?? null;
    $out['GET'] = $_GET;
    echo json_encode($out);
    break;
  case '/form':
    header('Content-Type: application/json');
    echo json_encode(['method' => $_SERVER['REQUEST_METHOD'], 'post' => $_POST]);
    break;
  case '/upload':
    header('Content-Type: application/json');
    $f = $_FILES['file'];
    echo json_encode(['name' => $f['name'], 'size' => $f['size'], 'error' => $f['error'], 'md5' => md5_file($f['tmp_name']), 'note' => $_POST['note'] ?? null]);
    break;
  case '/big':
    header('Content-Type: application/octet-stream');
    $chunk = str_repeat('0123456789abcdef', 4096);
    for ($i = 0; $i < ${BIG_BYTES / 65536}; $i++) { echo $chunk; flush(); }
    break;
  case '/master':
    echo posix_getppid();
    break;
  case '/slow':
    usleep(200000);
    echo 'slow';
    break;
  case '/boom':
    throw new RuntimeException('boom from the spec');
  default:
    http_response_code(404);
    echo 'PHP says: no route for ', $path;
}
`;

/** A directory that stands for the published passenger-ts, resolving to this checkout's source (the server under test runs it with tsx). */
function passengerShim(work: string): string {
  const dir = join(work, 'passenger-ts');
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'passenger-ts', version: '0.2.0', type: 'module', exports: { '.': './index.js' } }));
  writeFileSync(join(dir, 'index.js'), `export * from ${JSON.stringify(join(repoRoot, 'core/index.ts'))};\n`);
  return dir;
}

/** An app with the plugin installed from its tarball, as `npm install passenger-ts passenger-plugin-php` would. */
function phpApp(files: Record<string, string>, shim: string, tarball: string): string {
  const app = makeApp({ ...files, 'package.json': '{"name":"php-spec-app","private":true}', '.passengerrc.json': '{ "plugins": ["php"] }' });
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', shim, tarball], { cwd: app, stdio: 'pipe' });
  return app;
}

/** Established connections to the php-fpm sockets of this registry's instances, as php-fpm's side sees them (`ss`): socket path and inode. */
function phpConnections(registryDir: string): { socket: string; inode: string }[] {
  return execFileSync('ss', ['-xH', 'state', 'established'], { encoding: 'utf8' }).split('\n')
    .map((line) => line.trim().split(/\s+/))
    // u_str Recv-Q Send-Q local-path inode peer peer-inode
    .filter((f) => f[3]?.startsWith(registryDir) === true && /\/php\.\d+\.sock$/.test(f[3]))
    .map((f) => ({ socket: f[3]!, inode: f[4]! }));
}

describe('passenger-plugin-php from its npm tarball', function () {
  this.timeout(120000);
  let work: string;
  let tarball: string;
  let shim: string;
  let p: RunningPassenger | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'psg-php-'));
    const name = execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: pluginDir, encoding: 'utf8' }).trim().split('\n').pop()!;
    tarball = join(work, name);
    shim = passengerShim(work);
  });

  after(() => {
    rmSync(work, { recursive: true, force: true });
  });

  afterEach(async () => {
    await stopAndClean(p);
    p = undefined;
    removeApps();
  });

  it('packs the plugin, its loader and its FastCGI client, and nothing of the server', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const f of ['index.js', 'php-loader.js', 'lib/fastcgi-protocol.js', 'lib/fastcgi-records.js', 'README.md', 'package.json']) expect(files).to.include(`package/${f}`);
    expect(files.filter((f) => f.includes('core/') || f.includes('test/'))).to.deep.equal([]);
  });

  describe('a front-controller app (public/index.php) on php-fpm', () => {
    let app: string;
    beforeEach(async () => {
      app = phpApp({
        'public/index.php': FRONT_CONTROLLER,
        'public/script.php': '<?php header("Content-Type: application/json"); echo json_encode(["SCRIPT_NAME" => $_SERVER["SCRIPT_NAME"], "PATH_INFO" => $_SERVER["PATH_INFO"] ?? null, "SCRIPT_FILENAME" => $_SERVER["SCRIPT_FILENAME"]]);\n',
        'public/style.css': 'body { color: teal }\n',
        'secret.php': '<?php echo "outside the document root";\n',
      }, shim, tarball);
      p = await startPassenger(app, { args: ['--threads', '2'] });
    });

    it('detects the app and runs GET through php-fpm with a pool of `threads` workers', async () => {
      const res = await fetch(`${p!.url}/`);
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('hello from PHP via fpm-fcgi');
      expect(p!.output()).to.match(/\(fastcgi, concurrency 2\)/);
    });

    it('passes the CGI variables: script, path info, query, method, peer, server, headers (not Proxy)', async () => {
      const res = await fetch(`${p!.url}/info?a=1&b=two`, { headers: { 'X-Custom': 'yes', Proxy: 'http://evil.example' } });
      const info = await res.json() as Record<string, unknown>;
      expect(info).to.include({
        SCRIPT_FILENAME: join(app, 'public/index.php'), SCRIPT_NAME: '/index.php', PATH_INFO: '/info', QUERY_STRING: 'a=1&b=two',
        REQUEST_METHOD: 'GET', REMOTE_ADDR: '127.0.0.1', SERVER_NAME: '127.0.0.1', SERVER_PORT: String(p!.port), HTTP_X_CUSTOM: 'yes',
        HTTP_PROXY: null, HTTPS: null, DOCUMENT_ROOT: join(app, 'public'),
      });
      expect(info.GET).to.deep.equal({ a: '1', b: 'two' });
    });

    it('runs a .php file the path names, with the rest as PATH_INFO', async () => {
      const info = await (await fetch(`${p!.url}/script.php/extra/bits`)).json() as Record<string, unknown>;
      expect(info).to.deep.equal({ SCRIPT_NAME: '/script.php', PATH_INFO: '/extra/bits', SCRIPT_FILENAME: join(app, 'public/script.php') });
    });

    it('never sends PHP source: /index.php runs, and files outside public/ are not reachable', async () => {
      const res = await fetch(`${p!.url}/index.php`);
      const text = await res.text();
      expect(text).to.not.include('<?php');
      expect(text).to.equal('PHP says: no route for /index.php');
      const up = await fetch(`${p!.url}/../secret.php`);
      expect(await up.text()).to.not.include('outside the document root');
      // Other files in public/ are still the core's to send.
      expect(await (await fetch(`${p!.url}/style.css`)).text()).to.equal('body { color: teal }\n');
    });

    it('hands a form POST to $_POST', async () => {
      const res = await fetch(`${p!.url}/form`, { method: 'POST', body: new URLSearchParams({ name: 'Zoë', tags: 'a&b' }) });
      expect(await res.json()).to.deep.equal({ method: 'POST', post: { name: 'Zoë', tags: 'a&b' } });
    });

    it('streams a file upload into $_FILES', async () => {
      // Below Debian's upload_max_filesize (2M), over many STDIN records.
      const content = Buffer.alloc(1536 * 1024 + 17, 'x');
      for (let i = 0; i < content.length; i += 997) content[i] = i % 251;
      const form = new FormData();
      form.append('note', 'spec upload');
      form.append('file', new Blob([content]), 'data.bin');
      const res = await fetch(`${p!.url}/upload`, { method: 'POST', body: form });
      expect(await res.json()).to.deep.equal({ name: 'data.bin', size: content.length, error: 0, md5: createHash('md5').update(content).digest('hex'), note: 'spec upload' });
    });

    it('streams a 20 MiB download completely and intact', async () => {
      const res = await fetch(`${p!.url}/big`);
      expect(res.status).to.equal(200);
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) { hash.update(chunk); bytes += chunk.length; }
      expect(bytes).to.equal(BIG_BYTES);
      expect(hash.digest('hex')).to.equal(createHash('sha256').update(Buffer.from('0123456789abcdef'.repeat(4096).repeat(BIG_BYTES / 65536))).digest('hex'));
    });

    it("passes PHP's own 404 and 500, and logs PHP's error message", async () => {
      const notFound = await fetch(`${p!.url}/nowhere`);
      expect(notFound.status).to.equal(404);
      expect(await notFound.text()).to.equal('PHP says: no route for /nowhere');
      const boom = await fetch(`${p!.url}/boom`);
      expect(boom.status).to.equal(500);
      await p!.waitForOutput(/Uncaught RuntimeException: boom from the spec/);
    });

    it('keeps its FastCGI connections open between requests (FCGI_KEEP_CONN), never more than `threads` per master', async () => {
      for (let i = 0; i < 5; i++) expect(await (await fetch(`${p!.url}/`)).text()).to.equal('hello from PHP via fpm-fcgi');
      const kept = phpConnections(p!.registryDir);
      // One request at a time: one connection, which php-fpm's worker holds open.
      expect(kept).to.have.length(1);
      for (let i = 0; i < 5; i++) expect((await fetch(`${p!.url}/`)).status).to.equal(200);
      expect(phpConnections(p!.registryDir)).to.deep.equal(kept);
      // Many at once: each master gets at most as many connections as it has workers.
      const statuses = await Promise.all(Array.from({ length: 12 }, async () => (await fetch(`${p!.url}/`)).status));
      expect(statuses.every((s) => s === 200)).to.equal(true);
      const perMaster = new Map<string, number>();
      for (const c of phpConnections(p!.registryDir)) perMaster.set(c.socket, (perMaster.get(c.socket) ?? 0) + 1);
      expect(Math.max(...perMaster.values())).to.be.within(1, 2);
    });

    it('answers on a new connection when the php-fpm workers holding the kept ones are killed', async () => {
      expect((await fetch(`${p!.url}/`)).status).to.equal(200);
      const master = Number(await (await fetch(`${p!.url}/master`)).text());
      const workers = execFileSync('pgrep', ['-P', String(master)], { encoding: 'utf8' }).trim().split('\n').map(Number);
      expect(workers).to.have.length(2);
      for (const pid of workers) process.kill(pid, 'SIGKILL');
      // php-fpm's master starts new workers; the kept connections are dead, whether the core noticed yet or not.
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${p!.url}/`);
        expect(res.status).to.equal(200);
        expect(await res.text()).to.equal('hello from PHP via fpm-fcgi');
      }
    });

    it('restarts the php-fpm master when tmp/restart.txt is touched', async () => {
      const before = await (await fetch(`${p!.url}/master`)).text();
      expect(Number(before)).to.be.greaterThan(1);
      mkdirSync(join(app, 'tmp'), { recursive: true });
      writeFileSync(join(app, 'tmp/restart.txt'), '');
      const later = new Date(Date.now() + 2000);
      utimesSync(join(app, 'tmp/restart.txt'), later, later);
      // restart.txt is looked at once a second, and the restart is rolling: the old master serves until the new one is ready.
      let after = before;
      for (const deadline = Date.now() + 30000; after === before && Date.now() < deadline;) {
        await new Promise((r) => setTimeout(r, 250));
        after = await (await fetch(`${p!.url}/master`)).text();
      }
      expect(after).to.not.equal(before);
      expect(Number(after)).to.be.greaterThan(1);
    });
  });

  it('falls back to php-cgi with php_sapi: cgi', async () => {
    const app = phpApp({ 'index.php': FRONT_CONTROLLER }, shim, tarball);
    p = await startPassenger(app, { args: ['--php-sapi', 'cgi'] });
    expect(await (await fetch(`${p.url}/`)).text()).to.equal('hello from PHP via cgi-fcgi');
    const res = await fetch(`${p.url}/form`, { method: 'POST', body: new URLSearchParams({ x: '1' }) });
    expect(await res.json()).to.deep.equal({ method: 'POST', post: { x: '1' } });
  });

  it('keeps no connection that would hold the only worker while more requests than workers wait (forced concurrency)', async () => {
    const app = phpApp({ 'index.php': FRONT_CONTROLLER }, shim, tarball);
    // One php-fpm worker, but the core may give the master four requests at once: three connections wait in its backlog.
    p = await startPassenger(app, { args: ['--threads', '1', '--max-pool-size', '1', '--force-max-concurrent-requests-per-process', '4'] });
    const started = Date.now();
    const bodies = await Promise.all(Array.from({ length: 4 }, async () => (await fetch(`${p!.url}/slow`, { signal: AbortSignal.timeout(10000) })).text()));
    expect(bodies).to.deep.equal(['slow', 'slow', 'slow', 'slow']);
    // One after the other on the one worker: about 0.8 s, not a wait for a connection the worker never accepts.
    expect(Date.now() - started).to.be.below(8000);
    expect(phpConnections(p.registryDir)).to.have.length(1);
  });

  it('shows a parse error in the front controller on the error page, with file and line', async () => {
    const app = phpApp({ 'index.php': "<?php\n\necho 'one'\necho 'two';\n" }, shim, tarball);
    p = await startPassenger(app, { args: ['--friendly-error-pages'] });
    const res = await fetch(`${p.url}/`);
    expect(res.status).to.equal(500);
    const page = await res.text();
    expect(page).to.include('PHP Parse error');
    expect(page).to.include(`${join(app, 'index.php')} on line 4`);
    expect(page).to.include('Fix the syntax error');
  });

  it('names the Debian package of an extension composer.json requires and PHP lacks', async () => {
    const app = phpApp({ 'index.php': '<?php echo "x";\n', 'composer.json': '{"require":{"php":">=8.1","ext-mbstring":"*","ext-json":"*"}}' }, shim, tarball);
    p = await startPassenger(app, { args: ['--friendly-error-pages'] });
    const page = await (await fetch(`${p.url}/`)).text();
    expect(page).to.include('mbstring');
    expect(page).to.include('apt-get install php8.2-mbstring');
    expect(page).to.not.include('ext-json is');
  });

  it("passes the plugin's own test (test/php.spec.mjs), written against passenger-ts/testing from the packed package", () => {
    // The plugin as its author works on it: its folder, passenger-ts installed from the packed tarball as its devDependency.
    const dir = mkdtempSync(join(tmpdir(), 'psg-php-own-'));
    try {
      cpSync(pluginDir, dir, { recursive: true, filter: (src) => !src.includes('node_modules') });
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      pkg.devDependencies = { 'passenger-ts': `file:${packedTarball()}` };
      writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
      // The peer range names the plugin API's version (^0.2.0); this checkout may carry another version number.
      npmInstall(dir, ['--legacy-peer-deps']);
      const [node, bin] = mochaCommand();
      const r = spawnSync(node!, [bin!, '--no-config', '--reporter', 'spec', '--timeout', '60000', 'test/php.spec.mjs'], { cwd: dir, encoding: 'utf8', timeout: 200000 });
      const out = `${r.stdout}${r.stderr}`;
      expect(out, out).to.match(/4 passing/);
      expect(out).not.to.match(/failing/);
      expect(r.status, out).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
