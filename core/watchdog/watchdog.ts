// The watchdog: owns the instance directory, starts the core and restarts it
// when it dies. It remembers which app processes the core started, so that a
// core killed with SIGKILL leaves none behind. Stopping the watchdog stops
// everything and removes the instance directory. It also owns the public
// listening sockets (listeners.ts), so a restarting core loses no connection.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../log/logger.ts';
import { InstanceDir } from '../instance/instance-dir.ts';
import { removeStaleInstances } from '../instance/stale-instances.ts';
import type { CoreInit, CoreMessage } from '../instance/core-process.ts';
import { killProcessGroup } from '../spawn/kill.ts';
import { describeError } from '../errors/passenger-error.ts';
import { HeldListeners } from './listeners.ts';
import { coreEnvironment } from './core-env.ts';
import { reopenLogWriters } from '../log/log-file.ts';
import { RELOAD_SIGNAL, RESERVED_SIGNALS, STOP_SIGNALS, UPGRADE_SIGNAL } from '../signals.ts';
import type { EarlySignals } from './early-signals.ts';
import { startUpgrade, type UpgradeInheritance } from './upgrade.ts';

export interface WatchdogOptions {
  coreEntry: string;
  init: Omit<CoreInit, 'instanceDir'>;
  registryDir?: string | undefined;
  /** How long the core may take to stop gracefully before it is killed. */
  stopTimeoutMs: number;
  /** The built-in HTTP engine's address, and SCGI on TCP (host:port) if wanted. */
  listen: { address: string; port: number; scgiAddress?: string | undefined; scgiSocket?: string | undefined; httpFd?: number | undefined; sslPort?: number | undefined };
  /** The SCGI secret from scgi_secret_file, instead of a new one. */
  scgiSecret?: string | undefined;
  log: Logger;
  /** Listening sockets inherited from the instance this one upgrades (upgrade.ts). */
  upgrade?: UpgradeInheritance | undefined;
  /** The core's drain pause on a graceful stop (drain_delay), so a second signal knows whether there is one to cut short. */
  drainDelaySeconds?: number;
  /** Stop signals caught before the watchdog started (its handlers replace them). */
  early?: EarlySignals | undefined;
  onReady?(msg: Extract<CoreMessage, { type: 'ready' }>, instance: InstanceDir): void;
}

const TOUCH_INTERVAL_MS = 6 * 3600 * 1000;

export function runWatchdog(opts: WatchdogOptions): Promise<number> {
  const { log } = opts;
  for (const stale of removeStaleInstances(opts.registryDir)) log.info(`removed the stale instance directory ${stale.name} (its watchdog, pid ${stale.watchdogPid}, was killed)`);
  const instance = InstanceDir.create(opts.registryDir);
  if (opts.scgiSecret !== undefined) instance.writeScgiSecret(opts.scgiSecret);
  const scgiSocket = opts.listen.scgiSocket ?? instance.requestSocket;
  const listeners = new HeldListeners({
    http: { address: opts.listen.address, port: opts.listen.port, fd: opts.listen.httpFd },
    https: opts.listen.sslPort === undefined ? undefined : { address: opts.listen.address, port: opts.listen.sslPort },
    scgiSocket,
    scgiAddress: opts.listen.scgiAddress,
    inherited: opts.upgrade?.fds,
  });
  const appPids = new Set<number>();
  let core: ChildProcess | undefined;
  let everReady = false;
  let stopping = false;
  /**
   * The core is in the drain pause of a graceful stop (core-process.ts), or may be about to
   * enter it: set at the first stop signal, so a second one that comes before the core's
   * 'drain-pause' message still cuts the pause short rather than killing the core.
   */
  let drainPause = false;
  let recentCrashes: number[] = [];
  let coreRestarts = 0;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => { resolveExit = r; });
  const toucher = setInterval(() => instance.touch(), TOUCH_INTERVAL_MS);
  toucher.unref();

  const killOrphans = () => {
    for (const pid of appPids) killProcessGroup(pid, 'SIGKILL');
    appPids.clear();
  };

  const finish = (code: number) => {
    clearInterval(toucher);
    listeners.close();
    killOrphans();
    instance.remove();
    for (const s of STOP_SIGNALS) process.removeListener(s, onSignal);
    process.removeListener(RELOAD_SIGNAL, onReload);
    process.removeListener(UPGRADE_SIGNAL, onUpgrade);
    for (const s of Object.keys(RESERVED_SIGNALS)) process.removeListener(s, onReserved);
    resolveExit(code);
  };

  const startCore = () => {
    // A small young generation: the core's garbage is per-request and short-lived, and V8's default
    // (16 MiB semi-spaces) let the core grow from ~60 to ~110 MiB RSS under load. The node flags
    // passenger was started with come later, so they can override it.
    // --expose-gc: protocols/gc-pacer.ts frees the chunks of large request bodies early.
    const child = spawn(process.execPath, ['--max-semi-space-size=2', '--expose-gc', ...process.execArgv, opts.coreEntry, JSON.stringify({ ...opts.init, instanceDir: instance.path, coreRestarts, ...(opts.upgrade ? { upgrade: true } : {}) })], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...listeners.inheritedStdio],
      env: coreEnvironment(process.env),
    });
    core = child;
    child.on('message', (m: CoreMessage) => {
      switch (m.type) {
        case 'want-listeners': listeners.sendTo(child); break;
        case 'spawned': appPids.add(m.pid); break;
        case 'exited': appPids.delete(m.pid); break;
        case 'ready':
          listeners.release(child);
          if (!everReady) {
            opts.onReady?.(m, instance);
            // An upgrade: the old instance drains and stops now that this one serves (only our parent, the one that started us).
            if (opts.upgrade && process.ppid === opts.upgrade.fromPid) {
              log.info(`upgrade: serving; the old instance (watchdog pid ${opts.upgrade.fromPid}) drains and stops`);
              try { process.kill(opts.upgrade.fromPid, 'SIGTERM'); } catch { /* gone already */ }
            }
          } else log.info(`core restarted (pid ${m.pid}) and serving again`);
          everReady = true;
          break;
        case 'fatal':
          log.error(m.message);
          break;
        case 'upgrade-requested': onUpgrade(); break;
        case 'drain-pause': drainPause = true; break;
        case 'drain-pause-over': drainPause = false; break;
        case 'stop-instance':
          log.info('stopping: requested through the admin API');
          onSignal('SIGTERM');
          break;
      }
    });
    child.on('exit', (code, signal) => {
      core = undefined;
      if (stopping) { finish(0); return; }
      killOrphans();
      if (!everReady) { finish(code === 2 ? 2 : 1); return; }
      const now = Date.now();
      recentCrashes = [...recentCrashes.filter((t) => now - t < 60_000), now];
      // A core that keeps crashing is restarted with growing delays, never in a tight loop.
      const delay = recentCrashes.length <= 2 ? 0 : Math.min(250 * 2 ** (recentCrashes.length - 3), 10_000);
      coreRestarts++;
      // Take the sockets back at once: from now on connections wait for the next core. The line is
      // logged and the core started once they are bound again, so neither races the rebinding.
      listeners.open().catch((e: unknown) => log.error(`cannot listen again while the core restarts: ${describeError(e)}`)).finally(() => {
        if (stopping) return;
        log.error(`the core exited unexpectedly (${signal ?? `code ${code}`}); restarting it`);
        setTimeout(startCore, delay);
      });
    });
  };

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal during the drain pause cuts the pause short; otherwise (a second Ctrl-C, say) it stops now.
      if (drainPause && core?.connected) {
        drainPause = false;
        log.info(`${signal} again: cutting the drain pause short`);
        core.send({ type: 'cut-drain-pause' });
      } else {
        core?.kill('SIGKILL');
      }
      return;
    }
    stopping = true;
    if (!core) { finish(0); return; }
    const c = core;
    drainPause = signal !== 'SIGINT' && everReady && (opts.drainDelaySeconds ?? 0) > 0;
    if (signal !== 'SIGINT') c.kill('SIGTERM');
    // On Ctrl-C the terminal already sent SIGINT to the core; SIGINT again (not SIGTERM) so it skips the drain pause too.
    else setTimeout(() => c.kill('SIGINT'), 100).unref();
    setTimeout(() => c.kill('SIGKILL'), opts.stopTimeoutMs).unref();
  };
  // SIGHUP reloads (as nginx does) instead of stopping: the core does the work.
  const onReload = () => {
    for (const e of reopenLogWriters()) log.error(`${describeError(e)}; the old file stays in use`);
    if (core?.connected) core.send({ type: 'reload' });
    else log.warn(`${RELOAD_SIGNAL}: no core is running; nothing to reload`);
  };
  const onReserved = (signal: NodeJS.Signals) => log.warn(`${signal} ignored: ${RESERVED_SIGNALS[signal]}`);
  let upgrading = false;
  const onUpgrade = () => {
    if (stopping || upgrading) { log.warn(`${UPGRADE_SIGNAL} ignored: ${stopping ? 'stopping' : 'an upgrade is under way'}`); return; }
    if (!core?.connected || !everReady) { log.warn(`${UPGRADE_SIGNAL} ignored: no core is serving yet`); return; }
    if (opts.listen.httpFd !== undefined) { log.warn(`${UPGRADE_SIGNAL} ignored: the HTTP socket came from the service manager (socket activation); restart the service instead, the socket stays open`); return; }
    upgrading = true;
    log.info(`${UPGRADE_SIGNAL}: upgrading: starting the installed passenger with the same arguments`);
    startUpgrade(core, log).then((child) => {
      child.once('exit', (code, signal) => {
        upgrading = false;
        if (!stopping) log.error(`upgrade failed: the new passenger exited (${signal ?? `code ${code}`}) before it served; this instance keeps serving`);
      });
    }, (e: unknown) => {
      upgrading = false;
      log.error(`upgrade failed: ${describeError(e)}; this instance keeps serving`);
    });
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on(RELOAD_SIGNAL, onReload);
  process.on(UPGRADE_SIGNAL, onUpgrade);
  for (const s of Object.keys(RESERVED_SIGNALS)) process.on(s, onReserved);
  opts.early?.release();
  if (opts.early?.caught) {
    log.info(`stopping (${opts.early.caught} during start-up)`);
    stopping = true;
    finish(0);
    return exited;
  }
  listeners.open().then(() => { if (!stopping) startCore(); }, (e: unknown) => {
    log.error(`cannot listen on ${opts.listen.address}:${opts.listen.port} or ${scgiSocket}: ${describeError(e)}`);
    finish(1);
  });
  return exited;
}
