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
import { connectionHandoffFor } from '../server/http/connection-handoff.ts';
import { HttpEngine } from '../server/http/engine.ts';
import { ScgiServer } from '../server/scgi/server.ts';
import { AdminServer } from '../admin/server.ts';
import { compileTrustedProxies, type ProxyTrust } from '../server/trusted-proxies.ts';
import type { MetricsListener } from '../metrics/listener.ts';
import { StaticFileCache } from '../server/static/file-cache.ts';
import { StaticFiles } from '../server/static/static-files.ts';
import { frontIntercept } from '../server/front-intercept.ts';
import type { TlsFront } from '../server/tls/tls-front.ts';
import { registerTlsFront, reloadTls } from '../server/tls/reload.ts';
import { resolve as resolvePath } from 'node:path';
import { describeError } from '../errors/passenger-error.ts';
import { version } from '../paths.ts';
import type { CoreOptions } from '../config/app-spec.ts';
import type { Logger } from '../log/logger.ts';
import { startAccessLog } from '../log/access-log.ts';
import { appOutputLog } from '../log/app-output-log.ts';
import { reopenLogWriters } from '../log/log-file.ts';
import { RELOAD_SIGNAL, RESERVED_SIGNALS, STOP_SIGNALS, UPGRADE_SIGNAL } from '../signals.ts';
import { catchEarlyStopSignals } from '../watchdog/early-signals.ts';
import { DrainPause, drainDelaySeconds } from './drain.ts';
import { poolSizing } from './pool-sizing.ts';

export interface CoreInit {
  appDir: string;
  flags: Record<string, string | boolean>;
  instanceDir: string;
  /** How often the watchdog restarted the core before this one (for metrics). */
  coreRestarts?: number;
  /** Started by an upgrade (watchdog/upgrade.ts): the old instance still holds metrics_address for a while. */
  upgrade?: boolean;
}

export type CoreMessage =
  | { type: 'ready'; port: number; address: string; appRoot: string; appType: string; pid: number; scheme: 'http' | 'https'; sslPort?: number; metricsPort?: number }
  | { type: 'fatal'; message: string; code?: string }
  | { type: 'spawned'; pid: number }
  | { type: 'exited'; pid: number }
  /** The admin API asked to stop the whole instance. */
  | { type: 'stop-instance' }
  /** Booted: send the listening sockets (watchdog/listeners.ts). */
  | { type: 'want-listeners' }
  /** For an upgrade (watchdog/upgrade.ts): one of the TCP listening sockets, sent back to the watchdog with this message; `last` ends the list. */
  | { type: 'listener-back'; name: ListenerName | undefined; last: boolean }
  /** The drain pause of a graceful stop began (a second signal to the watchdog cuts it short), or ended. */
  | { type: 'drain-pause'; seconds: number }
  | { type: 'drain-pause-over' }
  /** SIGUSR2 reached the core: the watchdog does the upgrade. */
  | { type: 'upgrade-requested' };

function tell(msg: CoreMessage): void {
  if (process.connected) process.send?.(msg);
}

/** The core cannot start (its configuration, a plugin): the watchdog prints the one line and gives up (exit 2: no restart). */
function failToStart(e: unknown): never {
  tell({ type: 'fatal', message: describeError(e), code: (e as { code?: string }).code });
  process.exit(2);
}

interface InstanceOptions extends CoreOptions {
  port: number; address: string; max_pool_size: number; pool_idle_time: number;
  default_user: string; default_group?: string; log_level: string; shutdown_timeout: number; drain_delay?: number; max_body_size: number;
  trusted_proxies: string[];
  client_header_timeout: number; client_body_timeout: number; max_connections_per_client: number; socket_backlog: number; static_files_cache_size: number; lean_http_engine: boolean;
  scgi_address?: string; metrics_address?: string;
  ssl: boolean; ssl_certificate?: string; ssl_certificate_key?: string; ssl_port?: number; ssl_redirect: boolean; http2: boolean;
  scgi_socket?: string;
  scgi_secret_file?: string;
  access_log?: string; access_log_format: 'combined' | 'json';
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

/**
 * After an upgrade the old instance keeps metrics_address until it has
 * drained: the new core keeps trying in the background instead of failing.
 */
async function listenForMetrics(metrics: MetricsListener, upgrade: boolean, log: Logger): Promise<number | undefined> {
  if (!upgrade) return metrics.listen();
  try {
    return await metrics.listen();
  } catch (e) {
    log.info(`metrics_address is still the old instance's (${describeError(e)}); taking it over once that one stops`);
    const retry = (left: number) => setTimeout(() => {
      metrics.listen().then((port) => log.info(`metrics listener on port ${port} (after the upgrade)`), () => {
        if (left > 0) retry(left - 1);
        else log.error('metrics_address never came free after the upgrade; metrics are off until a restart');
      });
    }, 500).unref();
    retry(600);
    return undefined;
  }
}

export async function runCore(builtins: Plugin[], init: CoreInit): Promise<void> {
  // Booting can take seconds: a stop signal meanwhile is remembered and acted on once the core can stop cleanly.
  const early = catchEarlyStopSignals();
  let booted;
  try {
    booted = await bootForApp({ builtins, appDir: init.appDir, flags: init.flags, env: process.env });
  } catch (e) {
    failToStart(e);
  }
  const { kernel, app } = booted;
  const log = kernel.log;
  const opts = app.options as InstanceOptions;
  let trusts: ProxyTrust;
  try {
    trusts = compileTrustedProxies(opts.trusted_proxies);
  } catch (e) {
    failToStart(e);
  }
  const instance = new InstanceDir(init.instanceDir);
  const spawner = createSpawner({
    kernel, socketDir: instance.backends, socketDirFor: (uid, gid) => instance.userBackends(uid, gid), mode: 'standalone',
    defaultUser: opts.default_user, defaultGroup: opts.default_group, logLevel: opts.log_level,
  }, log);
  const registry = new AppRegistry(kernel, process.env, flagLayer(init.flags), () => writeProperties());
  // Unless configured, what fits in the container's CPU quota and memory limit.
  const sizing = poolSizing(app, kernel.appTypes.get(app.appType));
  if (!sizing.how.startsWith('default')) log.info(`max_pool_size ${sizing.how}`);
  const pool = new Pool(kernel, spawner, { maxPoolSize: sizing.size, poolIdleTime: opts.pool_idle_time, processGraceMs: 5000 },
    (appRoot) => registry.refresh(appRoot));
  kernel.hooks.processSpawned.tap('passenger:core', (p) => tell({ type: 'spawned', pid: p.pid }));
  kernel.hooks.processExited.tap('passenger:core', (p) => tell({ type: 'exited', pid: p.pid }));
  // Tapped before any request: the collector feeds on the hooks from the first one on.
  const metrics: MetricsListener | undefined = opts.metrics_address
    ? (await import('../metrics/start.ts')).createMetricsListener(kernel, pool, {
      address: opts.metrics_address, instanceName: instance.name, readOnlyPassword: instance.readPasswords().readOnly, coreRestarts: init.coreRestarts ?? 0,
    })
    : undefined;
  try {
    // Tapped before any request, as the metrics; opening the files now makes a bad path fail the start, naming its option.
    const accessLog = startAccessLog(kernel, {
      path: opts.access_log, format: opts.access_log_format, environment: String(app.options.environment), appRoot: app.appRoot,
    });
    if (accessLog !== undefined && accessLog !== 'stdout') log.info(`access log: ${accessLog} (${opts.access_log_format})`);
    appOutputLog(app, log);
  } catch (e) {
    failToStart(e);
  }
  // logrotate renames the files, then sends SIGHUP: lines from then on go to new files at the same paths.
  kernel.hooks.reload.tap('passenger:logs', () => {
    for (const e of reopenLogWriters()) log.error(`${describeError(e)}; the old file stays in use`);
  });
  const forwarder = new Forwarder(pool, log, {
    bufferDir: instance.buffers, maxBodySize: opts.max_body_size, clientBodyTimeoutMs: opts.client_body_timeout * 1000,
  }, kernel.hooks);
  const group = pool.group(app);
  // With ssl and ssl_port, port stays plain HTTP and ssl_port serves HTTPS; with ssl alone, port serves HTTPS only.
  const sslPortWanted = opts.ssl && opts.ssl_port !== undefined;
  let sslPort = 0;
  const handoff = connectionHandoffFor(app, kernel, log, group, opts.ssl && !sslPortWanted);
  const staticFiles = new StaticFiles(log, process.getuid?.() === 0, (type) => kernel.appTypes.get(type)?.scriptExtensions ?? [], new StaticFileCache(opts.static_files_cache_size));
  const redirectsToHttps = sslPortWanted && opts.ssl_redirect;
  const engine = new HttpEngine(forwarder, log, {
    handoff,
    port: opts.port, address: opts.address, headerTimeoutMs: opts.client_header_timeout * 1000, backlog: opts.socket_backlog, appFor: () => group.spec, trusts,
    // A load balancer is one peer for all traffic: the per-client limit never applies to trusted proxies.
    maxConnectionsPerClient: opts.max_connections_per_client, isExemptFromConnectionLimit: trusts,
    intercept: frontIntercept({ staticFiles, httpsRedirectPort: redirectsToHttps ? () => sslPort : undefined }),
    // With ssl_redirect every plain request is answered by the redirect: nothing for the lean engine.
    lean: opts.lean_http_engine && !redirectsToHttps,
    leanIntercept: (method, url, rawHeaders, spec) => staticFiles.replyLean(method, url, rawHeaders, spec),
  });
  let tlsFront: TlsFront | undefined;
  try {
    if (opts.ssl) {
      // Loaded only with ssl: node:tls and node:http2 cost memory a plain-HTTP core need not pay.
      const { TlsFront } = await import('../server/tls/tls-front.ts');
      tlsFront = new TlsFront(engine, log, {
        certFile: resolvePath(app.appRoot, opts.ssl_certificate ?? ''), keyFile: resolvePath(app.appRoot, opts.ssl_certificate_key ?? ''),
        http2: opts.http2, backlog: opts.socket_backlog,
      });
      registerTlsFront(tlsFront);
    } else if (opts.ssl_port !== undefined || opts.ssl_redirect) {
      log.warn('ssl_port and ssl_redirect only apply with ssl on; ignoring them');
    }
    if (opts.ssl && !sslPortWanted && opts.ssl_redirect) log.warn('ssl_redirect needs ssl_port (port serves HTTPS only without it); ignoring it');
  } catch (e) {
    failToStart(e);
  }
  const scgi = new ScgiServer(forwarder, log, {
    secret: instance.readScgiSecret(), trusts, appFor: (params) => registry.forScgi(params), backlog: opts.socket_backlog,
    ...(opts.client_header_timeout > 0 ? { headTimeoutMs: opts.client_header_timeout * 1000 } : {}),
  });
  const scgiSocket = opts.scgi_socket ?? instance.requestSocket;
  let port = 0;
  let metricsPort: number | undefined;
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
  const drainPause = new DrainPause();
  const drainDelay = drainDelaySeconds({ drain_delay: opts.drain_delay, environment: app.options.environment });
  /** `orphaned`: the watchdog died (SIGKILL) and cannot remove the instance directory, so we do. */
  const stop = (reason: string, orphaned = false) => {
    // A repeated stop cuts the pause short only without a watchdog: with one, the watchdog counts the
    // signals and says so over IPC, because a signal to the whole process group (supervisord's
    // stopasgroup, tini -g, kill -- -PGID) reaches the core twice, directly and forwarded, and is one stop.
    if (stopping && !process.connected && drainPause.cut()) log.info(`${reason} again: cutting the drain pause short`);
    stopping ??= (async () => {
      log.info(`stopping (${reason}): finishing in-flight requests`);
      // /readyz says 503 from now on, so load balancers stop sending while the rest drains.
      if (metrics) metrics.stopping = true;
      engine.startDraining();
      // Ctrl-C in a terminal skips the pause; so do a core that never served and one whose watchdog is gone.
      const graceful = drainDelay > 0 && ready && reason !== 'SIGINT' && !orphaned;
      if (graceful) {
        log.info(`draining: /readyz answers 503, still serving for drain_delay (${drainDelay} s) so load balancers notice; a second stop signal cuts this short`);
        tell({ type: 'drain-pause', seconds: drainDelay });
        if (await drainPause.wait(drainDelay)) log.info('drain pause cut short');
        tell({ type: 'drain-pause-over' });
      }
      const grace = opts.shutdown_timeout * 1000;
      // After a drain pause, idle keep-alive connections are left to their clients (engine.ts says why).
      await Promise.all([engine.close(grace, graceful), tlsFront?.close(grace), scgi.close(grace), admin.close()]);
      await metrics?.close();
      await pool.shutdown();
      await kernel.hooks.shutdown.promise(reason).catch((e: unknown) => log.error(describeError(e)));
      await spawner.close();
      if (orphaned) {
        try { instance.remove(); } catch (e) { log.error(`cannot remove the instance directory ${instance.path}: ${describeError(e)}`); }
      }
      process.exit(0);
    })();
    return stopping;
  };
  const admin = new AdminServer(instance.readPasswords(), {
    async status() {
      await pool.monitorNow();
      return {
        instance: { name: instance.name, version, watchdogPid: process.ppid, corePid: process.pid, address: opts.address, port, scgiSocket, maxPoolSize: sizing.size, poolSizing: sizing.how },
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
    reloadTls,
    stopInstance() {
      if (process.connected) tell({ type: 'stop-instance' });
      else void stop('stop requested by the admin API');
    },
  }, log);
  for (const s of STOP_SIGNALS) process.on(s, () => void stop(s));
  early.release();
  if (early.caught) void stop(`${early.caught} during start-up`);
  let reloading: Promise<void> | undefined;
  const reload = (reason: string) => {
    // One reload at a time; a signal during one is covered by it.
    reloading ??= (async () => {
      log.info(`reloading (${reason})`);
      try { reloadTls(); } catch (e) { log.error(`TLS certificate not reloaded, the old one stays in use: ${describeError(e)}`); }
      await kernel.hooks.reload.promise(reason).catch((e: unknown) => log.error(describeError(e)));
      log.info('reloaded');
    })().finally(() => { reloading = undefined; });
  };
  process.on(RELOAD_SIGNAL, () => reload(`${RELOAD_SIGNAL} to the core`));
  for (const s of Object.keys(RESERVED_SIGNALS)) process.on(s, () => log.warn(`${s} ignored: ${RESERVED_SIGNALS[s]}`));
  process.on(UPGRADE_SIGNAL, () => tell({ type: 'upgrade-requested' }));
  process.on('disconnect', () => void stop('the watchdog went away', true));
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop('stop requested');
    else if (m?.type === 'send-listeners') {
      // An upgrade: the new watchdog inherits these (the Unix socket it binds anew, by renaming over the path).
      const tcp = [...handed].filter(([name]) => name !== 'scgi');
      for (const [name, server] of tcp) process.send?.({ type: 'listener-back', name, last: false } satisfies CoreMessage, server);
      tell({ type: 'listener-back', name: undefined, last: true });
    }
    // The watchdog may send this before our pause began (the signals crossed): then the pause is skipped.
    else if (m?.type === 'cut-drain-pause') { if (drainPause.cut(true)) log.info('a second stop signal to the watchdog: cutting the drain pause short'); }
    else if (m?.type === 'reload') reload(`${RELOAD_SIGNAL} to the watchdog`);
  });

  let handed = new Map<ListenerName, net.Server>();
  try {
    const names: ListenerName[] = ['http', 'scgi'];
    if (opts.scgi_address) names.push('scgi-tcp');
    if (sslPortWanted) names.push('https');
    handed = await receiveListeners(names);
    const tlsOnly = tlsFront !== undefined && !sslPortWanted;
    port = tlsOnly ? await tlsFront!.listen(handed.get('http')!) : await engine.listen(handed.get('http')!);
    if (sslPortWanted) sslPort = await tlsFront!.listen(handed.get('https')!);
    scgi.adopt(handed.get('scgi')!);
    const tcp = handed.get('scgi-tcp');
    if (tcp) {
      warnIfExposed(opts.scgi_address!, log);
      scgi.adopt(tcp);
    }
    // Connections that arrived while no core was serving.
    process.on('message', (m: ListenerMessage, socket: net.Socket | undefined) => {
      if (m?.type !== 'connection' || !socket) return;
      // node:http and tls.Server turn Nagle off only on what their own listener accepts. Without this,
      // a response's last small segment waits for the client's delayed ACK (~40 ms).
      if (m.name === 'http' || m.name === 'https') socket.setNoDelay(true);
      if (m.name === 'http') (tlsOnly ? tlsFront!.accept(socket) : engine.accept(socket));
      else if (m.name === 'https') tlsFront!.accept(socket);
      else scgi.handleConnection(socket);
    });
    await admin.listen(instance.adminSocket);
    if (metrics) metricsPort = await listenForMetrics(metrics, init.upgrade === true, log);
  } catch (e) {
    tell({ type: 'fatal', message: `cannot listen: ${describeError(e)}` });
    process.exit(1);
  }
  registry.registerCommandLineApp(app, [flagLayer(init.flags)]);
  ready = true;
  writeProperties();
  try {
    await kernel.hooks.started.promise({ instanceDir: instance.path, mode: 'standalone' });
  } catch (e) {
    // A plugin's started tap failed (the guard named it): said in one line, as a failed boot is, not as a crash.
    failToStart(e);
  }
  pool.prestart(app);
  tell({
    type: 'ready', port, address: opts.address, appRoot: app.appRoot, appType: app.appType, pid: process.pid,
    scheme: tlsFront && !sslPortWanted ? 'https' : 'http', ...(sslPortWanted ? { sslPort } : {}), ...(metricsPort !== undefined ? { metricsPort } : {}),
  });
}
