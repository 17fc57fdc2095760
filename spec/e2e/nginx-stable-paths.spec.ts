// Deploying behind nginx with stable paths: with scgi_socket and
// scgi_secret_file, the configuration `passenger nginx-config` printed once
// keeps working across a restart of the server, without reloading nginx;
// responses stream through nginx as the app writes them; unsafe socket
// directories and secret files are refused at start, naming the path.
import { expect } from 'chai';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { get, startNginx, type RunningNginx } from '../support/nginx.ts';
import { waitFor } from '../core/admin/instance-helpers.ts';

const nodeApp = fixtureApp('node-basic');
const nobody = 65534;

describe('nginx in front of passenger with scgi_socket and scgi_secret_file', function () {
  this.timeout(120000);
  let base: string;
  let socket: string;
  let secretFile: string;
  let p: RunningPassenger | undefined;
  let nginx: RunningNginx | undefined;
  let port: number;
  const stableArgs = () => ['--scgi-socket', socket, '--scgi-secret-file', secretFile];

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'psg-stable-'));
    chmodSync(base, 0o755);
    mkdirSync(join(base, 'run'), { mode: 0o755 });
    socket = join(base, 'run', 'passenger.sock');
    secretFile = join(base, 'scgi.secret');
    p = await startPassenger(nodeApp, { args: stableArgs() });
    port = await getPort({ host: '127.0.0.1' });
    const conf = await passengerCommand(['nginx-config', nodeApp, '--listen', `127.0.0.1:${port}`, '--instance-registry-dir', p.registryDir]);
    expect(conf.code, conf.stderr).to.equal(0);
    expect(conf.stdout).to.include(`scgi_pass unix:${socket};`);
    expect(conf.stdout).to.include('scgi_buffering off;');
    expect(conf.stdout).to.include('keeps working without reloading nginx');
    nginx = startNginx(conf.stdout);
    await waitFor(() => get(port, 'node-basic', '/').then((r) => r.status === 200, () => false), 10000, 'nginx to serve');
  });

  after(async () => {
    await nginx?.stop();
    await stopAndClean(p);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('creates the secret file, private to the server\'s user', () => {
    const st = statSync(secretFile);
    expect(st.mode & 0o777).to.equal(0o600);
    expect(readFileSync(secretFile, 'utf8').trim()).to.match(/^[0-9a-f]{64}$/);
  });

  it('passes a response on as the app writes it (scgi_buffering off)', async () => {
    const flag = join(base, 'released');
    const { firstPart, body } = await new Promise<{ firstPart: string; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, path: `/stream-until?flag=${encodeURIComponent(flag)}`, headers: { Host: 'node-basic' }, agent: false }, (res) => {
        let body = '';
        let firstPart: string | undefined;
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
          // The app ends the response only after this file exists: buffering anywhere on the way would hold "first" back.
          if (firstPart === undefined) { firstPart = body; writeFileSync(flag, ''); }
        });
        res.on('end', () => resolve({ firstPart: firstPart ?? '', body }));
        res.on('error', reject);
      }).on('error', reject);
    });
    expect(firstPart).to.equal('first\n');
    expect(body).to.equal('first\nreleased\n');
  });

  it('keeps serving through the same nginx configuration after the server restarts', async () => {
    const before = await get(port, 'node-basic', '/');
    expect(before.status).to.equal(200);
    await stopAndClean(p);
    p = undefined;
    expect(existsSync(socket), 'the socket is removed at stop').to.equal(false);
    expect(existsSync(secretFile), 'the secret file stays').to.equal(true);
    p = await startPassenger(nodeApp, { args: stableArgs() });
    const after = await get(port, 'node-basic', '/');
    expect(after.status, after.body).to.equal(200);
    expect(after.body).to.match(/^hello from node \d+/);
    expect(after.body).to.not.equal(before.body); // a new app process answered
  });

  it('refuses a second server on the same scgi_socket', async () => {
    const r = await startPassenger(nodeApp, { args: stableArgs(), expectExit: true });
    try {
      expect(r.child.exitCode, r.output()).to.equal(1);
      expect(r.output()).to.include('PSG_ERR_SOCKET_IN_USE').and.include(socket);
    } finally {
      await stopAndClean(r);
    }
  });

  it('warns when nginx\'s worker user cannot connect to the socket', async () => {
    const conf = await passengerCommand(['nginx-config', nodeApp, '--nginx-user', 'nobody', '--instance-registry-dir', p!.registryDir]);
    expect(conf.code, conf.stderr).to.equal(0);
    expect(conf.stderr).to.include(`nobody may not write to ${socket}`);
    expect(conf.stdout).to.include('# WARNING: nobody may not write to');
  });
});

describe('scgi_socket and scgi_secret_file: unsafe paths are refused at start', function () {
  this.timeout(60000);
  let base: string;

  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'psg-unsafe-'));
    chmodSync(base, 0o755);
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  async function refused(args: string[]): Promise<string> {
    const r = await startPassenger(nodeApp, { args, expectExit: true });
    await stopAndClean(r);
    expect(r.child.exitCode, r.output()).to.equal(2);
    expect(r.output()).to.not.match(/serving/);
    return r.output();
  }

  it('a socket directory writable by others, naming the directory', async () => {
    const dir = join(base, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o1777);
    const out = await refused(['--scgi-socket', join(dir, 'p.sock')]);
    expect(out).to.include('PSG_ERR_CONFIG_UNSAFE_PATH').and.include(`the directory ${dir} is writable by others`);
  });

  it('a socket directory owned by another user', async () => {
    const dir = join(base, 'theirs');
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, nobody, nobody);
    const out = await refused(['--scgi-socket', join(dir, 'p.sock')]);
    expect(out).to.include('PSG_ERR_CONFIG_UNSAFE_PATH').and.include(`the directory ${dir} is owned by uid ${nobody}`);
  });

  it('a relative socket path', async () => {
    const out = await refused(['--scgi-socket', 'p.sock']);
    expect(out).to.include('scgi_socket: must be an absolute path');
  });

  it('a secret file readable by others', async () => {
    const file = join(base, 'secret');
    writeFileSync(file, 'a'.repeat(64) + '\n', { mode: 0o644 });
    const out = await refused(['--scgi-secret-file', file]);
    expect(out).to.include('PSG_ERR_CONFIG_UNSAFE_PATH').and.include(`${file} is readable or writable by others (mode 0644)`);
  });

  it('a secret file owned by another user', async () => {
    const file = join(base, 'secret');
    writeFileSync(file, 'a'.repeat(64) + '\n', { mode: 0o600 });
    chownSync(file, nobody, nobody);
    const out = await refused(['--scgi-secret-file', file]);
    expect(out).to.include(`${file} is owned by uid ${nobody}`);
  });
});
