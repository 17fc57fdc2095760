// The core process: kernel, pool and request handler for one instance. Started
// and supervised by the watchdog, which it tells (over IPC) when it is ready
// and which app processes it started, so that none outlives a crashed core.
import type { Plugin } from '../plugin.ts';
import { bootForApp, flagLayer } from './boot.ts';
import { InstanceDir } from './instance-dir.ts';
import { createDirectSpawner } from '../spawn/spawner.ts';
import { Pool } from '../pool/pool.ts';
import { Forwarder } from '../server/forward.ts';
import { HttpEngine } from '../server/http/engine.ts';
import { resolveAppSpec } from '../config/resolve-app.ts';
import { describeError } from '../errors/passenger-error.ts';
import { version } from '../paths.ts';
import type { CoreOptions } from '../config/app-spec.ts';

export interface CoreInit {
  appDir: string;
  flags: Record<string, string | boolean>;
  instanceDir: string;
}

export type CoreMessage =
  | { type: 'ready'; port: number; address: string; appRoot: string; appType: string; pid: number }
  | { type: 'fatal'; message: string; code?: string }
  | { type: 'spawned'; pid: number }
  | { type: 'exited'; pid: number };

function tell(msg: CoreMessage): void {
  if (process.connected) process.send?.(msg);
}

interface InstanceOptions extends CoreOptions {
  port: number; address: string; max_pool_size: number; pool_idle_time: number;
  default_user: string; default_group?: string; log_level: string; shutdown_timeout: number; max_body_size: number;
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
  const spawner = createDirectSpawner({
    kernel, socketDir: instance.backends, mode: 'standalone',
    defaultUser: opts.default_user, defaultGroup: opts.default_group, logLevel: opts.log_level,
  }, log);
  const pool = new Pool(kernel, spawner, { maxPoolSize: opts.max_pool_size, poolIdleTime: opts.pool_idle_time, processGraceMs: 5000 },
    (appRoot) => resolveAppSpec(kernel, { appRoot, env: process.env, layers: [flagLayer(init.flags)] }));
  kernel.hooks.processSpawned.tap('passenger:core', (p) => tell({ type: 'spawned', pid: p.pid }));
  kernel.hooks.processExited.tap('passenger:core', (p) => tell({ type: 'exited', pid: p.pid }));
  const forwarder = new Forwarder(pool, log);
  const group = pool.group(app);
  const engine = new HttpEngine(forwarder, log, {
    port: opts.port, address: opts.address, maxBodySize: opts.max_body_size, appFor: () => group.spec,
  });

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      log.info(`stopping (${reason}): finishing in-flight requests`);
      await engine.close(opts.shutdown_timeout * 1000);
      await pool.shutdown();
      await kernel.hooks.shutdown.promise(reason).catch((e: unknown) => log.error(describeError(e)));
      await spawner.close();
      process.exit(0);
    })();
    return stopping;
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('disconnect', () => void stop('the watchdog went away'));
  process.on('message', (m: { type?: string }) => { if (m?.type === 'stop') void stop('stop requested'); });

  let port: number;
  try {
    port = await engine.listen();
  } catch (e) {
    tell({ type: 'fatal', message: `cannot listen on ${opts.address}:${opts.port}: ${describeError(e)}` });
    process.exit(1);
  }
  instance.writeProperties({
    name: instance.name, version, watchdogPid: process.ppid, corePid: process.pid, createdAt: new Date().toISOString(),
    address: opts.address, port, apps: [app.appRoot],
  });
  await kernel.hooks.started.promise({ instanceDir: instance.path, mode: 'standalone' });
  pool.prestart(app);
  tell({ type: 'ready', port, address: opts.address, appRoot: app.appRoot, appType: app.appType, pid: process.pid });
}
