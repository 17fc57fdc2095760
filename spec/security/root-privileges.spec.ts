// Root never runs code or follows a path that a less privileged user controls
// (issue 14, item 1). Each case is an attack by the real unprivileged user
// `nobody` on a server running as root: the spec makes the attacker's files,
// then checks that root did not run them (a marker file records the uid of
// whoever ran the code) and refused them with an error naming the file and
// its owner. These specs need root, as CI runs them.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { resolveAppSpec } from '../../core/config/resolve-app.ts';
import { flagLayer } from '../../core/instance/boot.ts';
import { PassengerError } from '../../core/errors/passenger-error.ts';
import { bootedKernel } from '../support/kernel.ts';
import { fixtureApp, passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

const NOBODY = 65534;
const kernel = bootedKernel();

/** Code that records who ran it, in a marker file next to it. */
const recordUid = (marker: string) => `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, String(process.getuid()));\n`;
const ranAs = (marker: string): string | undefined => (existsSync(marker) ? readFileSync(marker, 'utf8') : undefined);

async function failure(p: Promise<unknown>): Promise<PassengerError> {
  try { await p; } catch (e) { if (e instanceof PassengerError) return e; throw e; }
  throw new Error('expected a PassengerError');
}

describe('running as root: nothing a less privileged user controls runs or is followed as root', function () {
  this.timeout(60000);
  let base: string;
  const opened: { path: string; mode: number }[] = [];

  before(function () {
    if (process.getuid?.() !== 0) throw new Error('these specs attack a server running as root: run them as root (CI does)');
    // nobody must reach the apps it owns: let it pass through (not list) the temp directory's ancestors.
    for (let dir = resolve(tmpdir()); dir !== '/'; dir = dirname(dir)) {
      const mode = statSync(dir).mode & 0o7777;
      if ((mode & 0o001) === 0) { opened.push({ path: dir, mode }); chmodSync(dir, mode | 0o001); }
    }
    base = mkdtempSync(join(tmpdir(), 'psg-root-'));
    chmodSync(base, 0o755);
  });

  after(() => {
    rmSync(base, { recursive: true, force: true });
    for (const { path, mode } of opened.reverse()) chmodSync(path, mode);
  });

  /** A directory with these files, owned (with its files) by `uid`, mode 0755. */
  function appDir(name: string, files: Record<string, string>, uid = NOBODY): string {
    const dir = join(base, name);
    mkdirSync(dir, { mode: 0o755 });
    for (const [rel, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), content);
      chownSync(join(dir, rel), uid, uid);
      if (dirname(rel) !== '.') chownSync(join(dir, dirname(rel)), uid, uid);
    }
    chownSync(dir, uid, uid);
    return dir;
  }

  const NODE_APP = { 'app.js': "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n", 'package.json': '{"type":"commonjs"}' };

  describe('plugins named by configuration', () => {
    let p: RunningPassenger | undefined;
    afterEach(async () => { await stopAndClean(p); p = undefined; });

    it('refuses a plugin named in a Passengerfile.json that nobody owns: neither the watchdog nor the core imports it', async () => {
      const dir = appDir('plugin-from-json', { ...NODE_APP, 'Passengerfile.json': '{"plugins": ["./evil-plugin.mjs"]}' });
      const marker = join(dir, 'evil-ran-as');
      writeFileSync(join(dir, 'evil-plugin.mjs'), `${recordUid(marker)}export default () => ({ name: 'evil', apiVersion: 2, apply() {} });\n`);
      chownSync(join(dir, 'evil-plugin.mjs'), NOBODY, NOBODY);
      p = await startPassenger(dir, { args: ['--user', 'nobody'], expectExit: true });
      expect(p.child.exitCode).to.equal(2);
      expect(p.output()).to.include(`PSG_ERR_PLUGIN_UNSAFE: ${join(dir, 'Passengerfile.json')}: plugins:`);
      expect(p.output()).to.include('nobody (uid 65534) controls this file');
      expect(ranAs(marker)).to.equal(undefined);
    });

    it('refuses a plugin that root names on the command line when its file is in a directory nobody owns', async () => {
      const dir = appDir('plugin-flag-untrusted-file', NODE_APP);
      const marker = join(dir, 'plugin-ran-as');
      writeFileSync(join(dir, 'plugin.mjs'), `${recordUid(marker)}export default () => ({ name: 'p', apiVersion: 2, apply() {} });\n`);
      p = await startPassenger(dir, { args: ['--user', 'nobody', '--plugins', './plugin.mjs'], expectExit: true });
      expect(p.child.exitCode).to.equal(2);
      expect(p.output()).to.match(/PSG_ERR_PLUGIN_UNSAFE: plugin "\.\/plugin\.mjs" \(.*plugin\.mjs\): the server runs as root and does not load code that another user can change: nobody \(uid 65534\) can change it/);
      expect(ranAs(marker)).to.equal(undefined);
    });

    it('still loads a plugin named in a root-owned file that no one else can write, from a root-owned directory', async () => {
      const dir = appDir('plugin-root-owned', { ...NODE_APP, 'Passengerfile.json': '{"plugins": ["./ok-plugin.mjs"], "min_instances": 0}' }, 0);
      const marker = join(dir, 'ok-ran-as');
      writeFileSync(join(dir, 'ok-plugin.mjs'), `${recordUid(marker)}export default () => ({ name: 'ok', apiVersion: 2, apply() {} });\n`);
      p = await startPassenger(dir, { args: ['--user', 'nobody'] });
      expect(ranAs(marker)).to.equal('0');
    });
  });

  describe("cosmiconfig's meta configuration", () => {
    let p: RunningPassenger | undefined;
    afterEach(async () => { await stopAndClean(p); p = undefined; });

    it('is never read: a .config/config.js in the working directory is not run', async () => {
      const cwd = appDir('meta-cwd', { '.config/config.cjs': '', '.config/config.js': '' });
      const marker = join(cwd, 'meta-ran-as');
      const code = `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.getuid())); module.exports = {};\n`;
      for (const f of ['config.js', 'config.cjs']) writeFileSync(join(cwd, '.config', f), code);
      p = await startPassenger(fixtureApp('node-basic'), { cwd, args: ['--user', 'nobody', '--min-instances', '0'] });
      expect(await (await fetch(`${p.url}/`)).text()).to.match(/hello from node/);
      expect(ranAs(marker)).to.equal(undefined);
    });
  });

  describe('configuration files in an app directory', () => {
    it('refuses a root-owned JavaScript config that everyone can write (PSG_ERR_CONFIG_UNSAFE_JS), without running it', async () => {
      const dir = appDir('js-0666', NODE_APP);
      const marker = join(dir, 'config-ran-as');
      const file = join(dir, 'passenger.config.mjs');
      writeFileSync(file, `${recordUid(marker)}export default {};\n`);
      chmodSync(file, 0o666);
      const e = await failure(resolveAppSpec(kernel, { appRoot: dir, env: {}, layers: [flagLayer({})] }));
      expect(e.code).to.equal('PSG_ERR_CONFIG_UNSAFE_JS');
      expect(e.message).to.include(`${file} (owned by root (uid 0))`);
      expect(e.message).to.include(`${file} is writable by everyone`);
      expect(ranAs(marker)).to.equal(undefined);
    });

    it('evaluates a root-owned JavaScript config in a directory nobody owns as nobody, never as root', async () => {
      const dir = appDir('js-root-in-nobody-dir', NODE_APP);
      const marker = join(dir, 'config-ran-as');
      writeFileSync(join(dir, 'passenger.config.mjs'), `${recordUid(marker)}export default { max_requests: 7 };\n`);
      const spec = await resolveAppSpec(kernel, { appRoot: dir, env: {}, layers: [flagLayer({})] });
      expect(spec.options.max_requests).to.equal(7);
      expect(ranAs(marker)).to.equal(String(NOBODY));
    });

    it('refuses a JSON config that everyone can write (PSG_ERR_CONFIG_UNSAFE)', async () => {
      const dir = appDir('json-0666', { ...NODE_APP, 'Passengerfile.json': '{"max_requests": 3}' });
      chmodSync(join(dir, 'Passengerfile.json'), 0o666);
      const e = await failure(resolveAppSpec(kernel, { appRoot: dir, env: {}, layers: [flagLayer({})] }));
      expect(e.code).to.equal('PSG_ERR_CONFIG_UNSAFE');
      expect(e.message).to.include(`${join(dir, 'Passengerfile.json')} (owned by nobody (uid 65534))`);
    });

    it('does not follow a symbolic link that nobody planted as Passengerfile.json (root would read /etc/shadow)', async () => {
      const dir = appDir('json-symlink', NODE_APP);
      const link = join(dir, 'Passengerfile.json');
      symlinkSync('/etc/shadow', link);
      const e = await failure(resolveAppSpec(kernel, { appRoot: dir, env: {}, layers: [flagLayer({})] }));
      expect(e.code).to.equal('PSG_ERR_CONFIG_UNSAFE');
      expect(e.message).to.include(`${link} (owned by root (uid 0)): it is a symbolic link that another user controls, and root does not follow it`);
      expect(e.message).to.not.match(/root:/);
    });

    it('reads a JSON config that nobody owns as data, but refuses "user": "root" in it', async () => {
      const dir = appDir('json-user-root', { ...NODE_APP, 'Passengerfile.json': '{"user": "root"}' });
      const e = await failure(resolveAppSpec(kernel, { appRoot: dir, env: {}, layers: [flagLayer({})] }));
      expect(e.code).to.equal('PSG_ERR_CONFIG_UNSAFE');
      expect(e.message).to.include(`${join(dir, 'Passengerfile.json')}: user: "root" is not the user who controls the file`);
      const own = appDir('json-user-self', { ...NODE_APP, 'Passengerfile.json': '{"user": "nobody", "max_requests": 4}' });
      const spec = await resolveAppSpec(kernel, { appRoot: own, env: {}, layers: [flagLayer({})] });
      expect([spec.options.user, spec.options.max_requests]).to.deep.equal(['nobody', 4]);
    });

    it('refuses instance options that root acts on (instance_registry_dir) from a file nobody owns', async () => {
      const dir = appDir('json-registry', { ...NODE_APP, 'Passengerfile.json': JSON.stringify({ instance_registry_dir: join(base, 'attacker-chosen') }) });
      const r = await passengerCommand(['detect', dir, '--user', 'nobody']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include(`PSG_ERR_CONFIG_UNSAFE: ${join(dir, 'Passengerfile.json')}: instance_registry_dir: set it on the command line`);
    });
  });

  describe('the instance registry', () => {
    let p: RunningPassenger | undefined;
    afterEach(async () => { await stopAndClean(p); p = undefined; });

    it("never chowns a root-owned directory that nobody linked under the name of an app's socket directory", async () => {
      p = await startPassenger(fixtureApp('node-basic'), { args: ['--user', 'nobody', '--min-instances', '0'] });
      chmodSync(p.registryDir, 0o1777); // like /tmp: every user may add entries
      const victim = join(base, 'root-owned-victim');
      mkdirSync(victim, { mode: 0o700 });
      const [instance] = p.instanceDirs();
      // nobody plants links under the names root used to pick for nobody's socket directory (now random).
      const names = [`${instance}.backends-${NOBODY}`, `${instance}.u${NOBODY}`];
      const plant = spawnSync('/bin/sh', ['-c', names.map((n) => `ln -s ${victim} ${join(p!.registryDir, n)}`).join(' && ')], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
      expect(plant.status, plant.stderr).to.equal(0);
      expect(await (await fetch(`${p.url}/`)).text()).to.match(/hello from node/);
      expect(statSync(victim).uid).to.equal(0);
      expect(statSync(victim).mode & 0o7777).to.equal(0o700);
      // The app got a fresh directory of its own instead.
      const made = readdirSync(p.registryDir).filter((n) => n.startsWith(`${instance}.`) && !lstatSync(join(p!.registryDir, n)).isSymbolicLink());
      expect(made).to.have.length(1);
      expect(statSync(join(p.registryDir, made[0]!)).uid).to.equal(NOBODY);
      await p.stop();
      // Stopping removed the instance, the app's directory and the link that looks like one; the other link is nobody's to remove.
      expect(readdirSync(p.registryDir).sort()).to.deep.equal([names[0]]);
      rmSync(join(p.registryDir, names[0]!));
      expect(statSync(victim).uid).to.equal(0);
    });
  });
});
