// The preloader protocol (docs/protocols.md section 4) against the real Rack
// and WSGI preloaders, driven through the spawner's Preloader class: forks
// report their pid and a ready socket, the command socket wants the password,
// a forked process lives on its own (shutdown byte, process group, survives
// the preloader), and a failing fork hook is a spawn error with its message.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../core/log/logger.ts';
import { Preloader } from '../../../core/spawn/preloader-process.ts';
import type { SpawnCommand } from '../../../core/spawn/spawn-command.ts';
import type { SpawnedProcess } from '../../../core/spawn/spawn-process.ts';
import { SpawnFailure } from '../../../core/spawn/spawn-failure.ts';
import { killProcessGroup, isAlive } from '../../../core/spawn/kill.ts';
import { fixtureApp, repoRoot } from '../../support/passenger.ts';

const log = createLogger('error', () => {});

const KINDS = [
  { type: 'rack', command: 'ruby', script: 'rack-preloader.rb', app: 'rack-preload', startup: 'config.ru' },
  { type: 'wsgi', command: 'python3', script: 'wsgi-preloader.py', app: 'wsgi-preload', startup: 'passenger_wsgi.py' },
];

function command(kind: typeof KINDS[number], socketDir: string, app = kind.app): SpawnCommand {
  const appRoot = fixtureApp(app);
  return {
    command: kind.command, args: [join(repoRoot, 'helper-scripts', kind.script)], cwd: appRoot,
    env: { ...process.env, PRELOAD_SLEEP: '0' } as Record<string, string>,
    handshake: {
      app_root: appRoot, startup_file: join(appRoot, kind.startup), app_type: kind.type, environment: 'development',
      base_uri: '/', socket_dir: socketDir, connect_password: randomBytes(24).toString('hex'), log_level: '1', threads: '1',
    },
    readiness: { kind: 'handshake' }, user: 'me', startTimeoutMs: 30000,
  };
}

/** The per-process command: same keys, its own connect password. */
const childOf = (cmd: SpawnCommand): SpawnCommand => ({ ...cmd, handshake: { ...cmd.handshake, connect_password: randomBytes(24).toString('hex') } });

function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (ok()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

function rawCommand(path: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path });
    let text = '';
    sock.on('data', (d) => { text += d.toString(); });
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
    sock.setTimeout(10000, () => sock.destroy(new Error('no answer')));
    sock.write(line);
  });
}

describe('preloader protocol (Preloader against the real preloaders)', function () {
  this.timeout(60000);
  let socketDir: string;
  const preloaders: Preloader[] = [];
  const children: SpawnedProcess[] = [];
  beforeEach(() => { socketDir = mkdtempSync(join(tmpdir(), 'psg-pre-')); });
  afterEach(async () => {
    for (const c of children.splice(0)) { killProcessGroup(c.pid, 'SIGKILL'); await c.exited; }
    for (const p of preloaders.splice(0)) { p.kill(); await p.exited; }
    rmSync(socketDir, { recursive: true, force: true });
  });

  for (const kind of KINDS) {
    describe(kind.type, () => {
      it('reports a private command socket and forks ready processes that each lead their own process group', async () => {
        const cmd = command(kind, socketDir);
        const preloader = await Preloader.start(cmd, log, 'spec');
        preloaders.push(preloader);
        expect(statSync(preloader.socketPath).mode & 0o777).to.equal(0o600);
        const a = await preloader.fork(childOf(cmd), log, 'spec');
        const b = await preloader.fork(childOf(cmd), log, 'spec');
        children.push(a, b);
        expect(a.pid).to.not.equal(b.pid);
        for (const c of [a, b]) {
          expect(c.sockets[0]!.protocol).to.equal('session');
          expect(c.sockets[0]!.address).to.match(new RegExp(`^unix:${socketDir}/`));
          expect(process.kill(-c.pid, 0)).to.equal(true); // the group exists: the child called setsid
        }
      });

      it('refuses a spawn command with a wrong password or an unknown command', async () => {
        const preloader = await Preloader.start(command(kind, socketDir), log, 'spec');
        preloaders.push(preloader);
        expect(await rawCommand(preloader.socketPath, 'spawn not-the-password\n')).to.equal('!> refused: wrong password\n');
        expect(await rawCommand(preloader.socketPath, 'launch x\n')).to.match(/^!> refused: unknown command/);
        expect(preloader.alive).to.equal(true);
      });

      it('stops a forked process with the shutdown byte, and forked processes outlive a stopped preloader', async () => {
        const cmd = command(kind, socketDir);
        const preloader = await Preloader.start(cmd, log, 'spec');
        preloaders.push(preloader);
        const a = await preloader.fork(childOf(cmd), log, 'spec');
        const b = await preloader.fork(childOf(cmd), log, 'spec');
        children.push(b);
        a.child.stdin!.end('x');
        await a.exited;
        expect(isAlive(a.pid)).to.equal(false);
        await preloader.stop();
        expect(() => statSync(preloader.socketPath)).to.throw(/ENOENT/);
        expect(isAlive(b.pid)).to.equal(true);
        b.child.kill('SIGTERM');
        await until('the orphaned process to exit', 10000, () => !isAlive(b.pid));
      });
    });
  }

  it('rack: a failing on_fork hook fails the spawn with its message, and the preloader keeps forking', async () => {
    const kind = KINDS[0]!;
    const cmd = command(kind, socketDir, 'rack-preload-hook-fails');
    const preloader = await Preloader.start(cmd, log, 'spec');
    preloaders.push(preloader);
    for (let i = 0; i < 2; i++) {
      const err = await preloader.fork(childOf(cmd), log, 'spec').then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(SpawnFailure);
      expect((err as SpawnFailure).failure.summary).to.equal('cannot reconnect to the database');
      expect((err as SpawnFailure).failure.errorClass).to.equal('IOError');
    }
    expect(preloader.alive).to.equal(true);
  });
});
