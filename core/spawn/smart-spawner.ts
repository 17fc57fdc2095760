// The `smart` spawn method: one preloader per app loads it once and forks
// its processes. A preloader is (re)started on demand: on the first spawn,
// after it died, and when the app's spec changed (a restart hands the group a
// fresh spec object, so a restart replaces the preloader too). One that
// forked nothing for max_preloader_idle_time is stopped.
import { randomBytes } from 'node:crypto';
import type { AppSpec } from '../config/app-spec.ts';
import type { Logger } from '../log/logger.ts';
import type { Spawner } from './spawner.ts';
import { prepareSpawnCommand, type SpawnEnvironment } from './prepare.ts';
import type { SpawnCommand } from './spawn-command.ts';
import type { SpawnedProcess } from './spawn-process.ts';
import { Preloader } from './preloader-process.ts';
import { describeError } from '../errors/passenger-error.ts';
import { secretMaskerFor } from './command-secrets.ts';
import { appOutputLog } from '../log/app-output-log.ts';

export interface SmartSpawner extends Spawner {
  /** Stops the app's preloader; the next spawn loads the app afresh. */
  restartApp(appRoot: string): Promise<void>;
  /** The pid of the app's running preloader, if any (for stats and specs). */
  preloaderPid(appRoot: string): number | undefined;
}

interface Entry {
  spec: AppSpec;
  preloader: Promise<Preloader>;
  idleTimer?: NodeJS.Timeout;
}

export function createSmartSpawner(env: SpawnEnvironment, log: Logger): SmartSpawner {
  const entries = new Map<string, Entry>();
  const running = new Map<string, Preloader>();

  const drop = (appRoot: string, entry: Entry, why: string): Promise<void> => {
    if (entries.get(appRoot) === entry) entries.delete(appRoot);
    clearTimeout(entry.idleTimer);
    return entry.preloader.then(async (p) => {
      if (running.get(appRoot) === p) running.delete(appRoot);
      if (!p.alive) return;
      log.info(`[${entry.spec.name}] stopping preloader ${p.pid} (${why})`);
      await p.stop();
    }, () => {});
  };

  const start = (app: AppSpec, cmd: SpawnCommand): Entry => {
    // The preloader's connect_password guards its command socket; each child gets its own.
    const own: SpawnCommand = { ...cmd, handshake: { ...cmd.handshake, connect_password: randomBytes(24).toString('hex') } };
    const entry: Entry = { spec: app, preloader: Preloader.start(own, appOutputLog(app, log), `${app.name} preloader`) };
    entries.set(app.appRoot, entry);
    entry.preloader.then((p) => {
      running.set(app.appRoot, p);
      log.info(`[${app.name}] preloader ${p.pid} loaded the app in ${p.startDurationMs} ms`);
      void p.exited.then((status) => {
        if (running.get(app.appRoot) === p) running.delete(app.appRoot);
        if (entries.get(app.appRoot) !== entry) return;
        entries.delete(app.appRoot);
        clearTimeout(entry.idleTimer);
        log.warn(`[${app.name}] preloader ${p.pid} exited unexpectedly (${status.signal ?? `code ${status.code}`}); the next spawn starts another`);
      });
    }, () => { if (entries.get(app.appRoot) === entry) entries.delete(app.appRoot); });
    return entry;
  };

  const preloaderFor = async (app: AppSpec, cmd: SpawnCommand): Promise<{ entry: Entry; preloader: Preloader }> => {
    let entry = entries.get(app.appRoot);
    if (entry && entry.spec !== app) {
      void drop(app.appRoot, entry, 'the app was restarted');
      entry = undefined;
    }
    if (entry) {
      const p = await entry.preloader.catch(() => undefined);
      if (p?.alive) return { entry, preloader: p };
      if (entries.get(app.appRoot) === entry) entries.delete(app.appRoot);
    }
    entry = start(app, cmd);
    return { entry, preloader: await entry.preloader };
  };

  const armIdleTimer = (app: AppSpec, entry: Entry) => {
    clearTimeout(entry.idleTimer);
    const seconds = app.options.max_preloader_idle_time;
    if (seconds <= 0) return;
    entry.idleTimer = setTimeout(() => void drop(app.appRoot, entry, `idle for ${seconds} s`), seconds * 1000);
    entry.idleTimer.unref();
  };

  return {
    async spawn(app: AppSpec): Promise<SpawnedProcess> {
      const began = performance.now();
      const cmd = await prepareSpawnCommand(env, app, 'smart');
      // One retry: a preloader that died between its last fork and this one is replaced.
      for (let attempt = 1; ; attempt++) {
        const { entry, preloader } = await preloaderFor(app, cmd);
        try {
          const child = await preloader.fork(cmd, appOutputLog(app, log), app.name);
          armIdleTimer(app, entry);
          // Honest stats: the first process also waited for the preloader to load the app.
          return { ...child, spawnDurationMs: Math.round(performance.now() - began) };
        } catch (e) {
          await Promise.race([preloader.exited, new Promise((r) => setTimeout(r, 50))]);
          if (preloader.alive || attempt >= 2) throw e;
          log.warn(`[${app.name}] preloader ${preloader.pid} died while forking (${secretMaskerFor(cmd, app).text(describeError(e))}); starting another`);
        }
      }
    },
    restartApp: async (appRoot) => {
      const entry = entries.get(appRoot);
      if (entry) await drop(appRoot, entry, 'restart');
    },
    preloaderPid: (appRoot) => running.get(appRoot)?.pid,
    async close() {
      await Promise.all([...entries].map(([root, e]) => drop(root, e, 'shutting down')));
    },
  };
}
