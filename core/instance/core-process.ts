// The core process: kernel, pool and request handlers for one instance.
// Started and supervised by the watchdog, which it tells (over IPC) when it
// is ready and which app processes it started, so that none outlives a
// crashed core. It serves several apps: the built-in HTTP engine serves the
// app named on the command line; the SCGI handler (request.sock, behind
// nginx) serves whichever app each request names; the admin API
// (admin.sock) inspects and controls the pool.
import net from 'node:net';
import type { Plugin } from '../plugin.ts';
import { bootForApp, flagLayer } from './boot.ts';
import { InstanceDir } from './instance-dir.ts';
import { AppRegistry } from './app-registry.ts';
import type { ListenerMessage, ListenerName } from '../watchdog/listeners.ts';
import { createSpawner } from '../spawn/spawner.ts';
import { Pool } from '../pool/pool.ts';
import { Forwarder } from '../server/forward.ts';
import { HttpEngine } from '../server/http/engine.ts';
import { ScgiServer } from '../server/scgi/server.ts';
import { AdminServer } from '../admin/server.ts';
import { describeError } from '../errors/passenger-error.ts';
import { version } from '../paths.ts';
import type { CoreOptions } from '../config/app-spec.ts';
import type { Logger } from '../log/logger.ts';
import { RELOAD_SIGNAL, RESERVED_SIGNALS, STOP_SIGNALS } from '../signals.ts';

export interface CoreInit {
  appDir: string;
  flags: Record<string, string | boolean>;
  instanceDir: string;
}

export type CoreMessage =
  | { type: 'ready'; port: number; address: string; appRoot: string; appType: string; pid: number }
  | { type: 'fatal'; message: string; code?: string }
  | { type: 'spawned'; pid: number }
  | { type: 'exited'; pid: number }
  /** The admin API asked to stop the whole instance. */
  | { type: 'stop-instance' }
  /** Booted: send the listening sockets (watchdog/listeners.ts). */
  | { type: 'want-listeners' };

function tell(msg: CoreMessage): void {
  if (process.connected) process.send?.(msg);
}

interface InstanceOptions extends CoreOptions {
  port: number; address: string; max_pool_size: number; pool_idle_time: number;
  default_user: string; default_group?: string; log_level: string; shutdown_timeout: number; max_body_size: number;
  scgi_address?: string;
  scgi_socket?: string;
  scgi_secret_file?: string;
}

/** The listening sockets the watchdog owns and hands to each core it starts. */
function receiveListeners(names: ListenerName[]): Promise<Map<ListenerName, net.Server>> {
  return new Promise((resolve) => {
    const got = new Map<ListenerName, net.Server>();
    const onMessage = (m: ListenerMessage, server: net.Server | undefined) => {
      if (m?.type !== 'listener') return;
      // A socket-activated port comes as a descriptor we inherited; server.listen() takes { fd } like a server.
      if (m.fd !== undefined) server = { fd: m.fd } as unknown as net.Server;
      if (!server) return;
      got.set(m.name, server);
      if (names.every((n) => got.has(n))) { process.off('message', onMessage); resolve(got); }
    };
    process.on('message', onMessage);
    tell({ type: 'want-listeners' });
  });
}

function warnIfExposed(address: string, log: Logger): void {
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', '::1', 'localhost'].includes(host)) {
    log.warn(`SCGI on ${address} is reachable from other machines; anyone who can connect can choose the app and its options (PASSENGER_* parameters). Prefer the Unix socket or a loopback address.`);
  }
}

export async function runCore(builtins: Plugin[], init: CoreInit): Promise<void> {
  let booted;
  try {
    booted = await bootForApp({ builtins, appDir: init.appDir, flags: init.flags, env: process.env });
  } catch (e) {
    tell({ type: 'fatal', message: describeError(e), code: (e as { code?: string }).code });
    process.exit(2);
  }
  const { kernel, app } = booted;
  const log = kernel.log;
  const opts = app.options as InstanceOptions;
  const instance = new InstanceDir(init.instanceDir);
  const spawner = createSpawner({
    kernel, socketDir: instance.backends, socketDirFor: (uid, gid) => instance.userBackends(uid, gid), mode: 'standalone',
    defaultUser: opts.default_user, defaultGroup: opts.default_group, logLevel: opts.log_level,
  }, log);
  const registry = new AppRegistry(kernel, process.env, flagLayer(init.flags), () => writeProperties());
  const pool = new Pool(kernel, spawner, { maxPoolSize: opts.max_pool_size, poolIdleTime: opts.pool_idle_time, processGraceMs: 5000 },
    (appRoot) => registry.refresh(appRoot));
  kernel.hooks.processSpawned.tap('passenger:core', (p) => tell({ type: 'spawned', pid: p.pid }));
  kernel.hooks.processExited.tap('passenger:core', (p) => tell({ type: 'exited', pid: p.pid }));
  const forwarder = new Forwarder(pool, log);
  const group = pool.group(app);
  const engine = new HttpEngine(forwarder, log, {
    port: opts.port, address: opts.address, maxBodySize: opts.max_body_size, appFor: () => group.spec,
  });
  const scgi = new ScgiServer(forwarder, log, { secret: instance.readScgiSecret(), appFor: (params) => registry.forScgi(params) });
  const scgiSocket = opts.scgi_socket ?? instance.requestSocket;
  let port = 0;
  let ready = false;
  // A restarted core keeps the instance's creation time.
  let createdAt = new Date().toISOString();
  try { createdAt = instance.readProperties().createdAt; } catch { /* the first core */ }
  const writeProperties = () => {
    if (!ready) return;
    instance.writeProperties({
      name: instance.name, version, watchdogPid: process.ppid, corePid: process.pid, createdAt,
      address: opts.address, port, apps: registry.appRoots,
      scgiSocket, adminSocket: instance.adminSocket,
      ...(opts.scgi_address ? { scgiAddress: opts.scgi_address } : {}),
      ...(opts.scgi_secret_file ? { scgiSecretFile: opts.scgi_secret_file } : {}),
    });
  };

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.info(`stopping (${reason}): finishing in-flight requests`);
      const grace = opts.shutdown_timeout * 1000;
      await Promise.all([engine.close(grace), scgi.close(grace), admin.close()]);
      await pool.shutdown();
      await kernel.hooks.shutdown.promise(reason).catch((e: unknown) => log.error(describeError(e)));
      await spawner.close();
      process.exit(0);
    })();
    return stopping;
  };
  const admin = new AdminServer(instance.readPasswords(), {
    async status() {
      await pool.monitorNow();
      return {
        instance: { name: instance.name, version, watchdogPid: process.ppid, corePid: process.pid, address: opts.address, port, scgiSocket },
        pool: pool.stats(),
      };
    },
    restartApp(appRoot) {
      const g = pool.findGroup(appRoot);
      if (!g) return false;
      void g.restart();
      return true;
    },
    detachProcess: (pid) => pool.detach(pid),
    stopInstance() {
      if (process.connected) tell({ type: 'stop-instance' });
      else void stop('stop requested by the admin API');
    },
  }, log);
  for (const s of STOP_SIGNALS) process.on(s, () => void stop(s));
  let reloading: Promise<void> | undefined;
  const reload = (reason: string) => {
    // One reload at a time; a signal during one is covered by it.
    reloading ??= (async () => {
      log.info(`reloading (${reason})`);
      await kernel.hooks.reload.promise(reason).catch((e: unknown) => log.error(describeError(e)));
      log.info('reloaded');
    })().finally(() => { reloading = undefined; });
  };
  process.on(RELOAD_SIGNAL, () => reload(`${RELOAD_SIGNAL} to the core`));
  for (const s of Object.keys(RESERVED_SIGNALS)) process.on(s, () => log.warn(`${s} ignored: ${RESERVED_SIGNALS[s]}`));
  process.on('disconnect', () => void stop('the watchdog went away'));
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop('stop requested');
    else if (m?.type === 'reload') reload(`${RELOAD_SIGNAL} to the watchdog`);
  });

  try {
    const handed = await receiveListeners(opts.scgi_address ? ['http', 'scgi', 'scgi-tcp'] : ['http', 'scgi']);
    port = await engine.listen(handed.get('http')!);
    scgi.adopt(handed.get('scgi')!);
    const tcp = handed.get('scgi-tcp');
    if (tcp) {
      warnIfExposed(opts.scgi_address!, log);
      scgi.adopt(tcp);
    }
    // Connections that arrived while no core was serving.
    process.on('message', (m: ListenerMessage, socket: net.Socket | undefined) => {
      if (m?.type !== 'connection' || !socket) return;
      if (m.name === 'http') engine.accept(socket); else scgi.handleConnection(socket);
    });
    await admin.listen(instance.adminSocket);
  } catch (e) {
    tell({ type: 'fatal', message: `cannot listen: ${describeError(e)}` });
    process.exit(1);
  }
  registry.registerCommandLineApp(app, [flagLayer(init.flags)]);
  ready = true;
  writeProperties();
  await kernel.hooks.started.promise({ instanceDir: instance.path, mode: 'standalone' });
  pool.prestart(app);
  tell({ type: 'ready', port, address: opts.address, appRoot: app.appRoot, appType: app.appType, pid: process.pid });
}
