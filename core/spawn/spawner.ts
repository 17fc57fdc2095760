// The pool asks a Spawner for processes and does not care how they are made:
// the direct spawner starts a loader per process; the smart spawner forks
// them from a preloader that loaded the app once. createSpawner routes each
// spawn to one of the two by the app's spawn_method and app type.
import type { AppSpec } from '../config/app-spec.ts';
import type { Logger } from '../log/logger.ts';
import { prepareSpawnCommand, type SpawnEnvironment } from './prepare.ts';
import { appOutputLog } from '../log/app-output-log.ts';
import { spawnProcess, type SpawnedProcess } from './spawn-process.ts';
import type { SmartSpawner } from './smart-spawner.ts';
import type { SpawnMethod } from './spawn-command.ts';

export interface Spawner {
  spawn(app: AppSpec): Promise<SpawnedProcess>;
  /** Stops helpers such as preloaders. */
  close(): Promise<void>;
  /** Forgets what was loaded for an app (its preloader), so the next spawn loads it afresh. */
  restartApp?(appRoot: string): Promise<void>;
  /** How the next process of this app will be started (for events and metrics). */
  methodFor?(app: AppSpec): SpawnMethod;
}

export function createDirectSpawner(env: SpawnEnvironment, log: Logger): Spawner {
  return {
    async spawn(app) {
      const cmd = await prepareSpawnCommand(env, app, 'direct');
      return spawnProcess(cmd, appOutputLog(app, log), app.name);
    },
    methodFor: () => 'direct',
    async close() {},
  };
}

/** Whether an app's processes come from a preloader: spawn_method smart and an app type that has one. */
export function usesPreloader(env: SpawnEnvironment, app: AppSpec): boolean {
  if (app.options.spawn_method !== 'smart') return false;
  return env.kernel.appTypes.get(app.appType)?.hasPreloader === true;
}

export function createSpawner(env: SpawnEnvironment, log: Logger): Spawner {
  const direct = createDirectSpawner(env, log);
  // The smart spawner (preloaders) is loaded by the first spawn that needs it; until then it has nothing to stop.
  let smart: SmartSpawner | undefined;
  let loading: Promise<SmartSpawner> | undefined;
  const loadSmart = async () => smart ??= await (loading ??= import('./smart-spawner.ts').then((m) => m.createSmartSpawner(env, log)));
  return {
    async spawn(app) {
      if (usesPreloader(env, app)) return (await loadSmart()).spawn(app);
      // An app restarted with spawn_method direct no longer needs its preloader.
      void smart?.restartApp(app.appRoot);
      return direct.spawn(app);
    },
    restartApp: async (appRoot) => { await smart?.restartApp(appRoot); },
    methodFor: (app) => usesPreloader(env, app) ? 'smart' : 'direct',
    async close() { await Promise.all([direct.close(), loading?.then((s) => s.close())]); },
  };
}
