// The pool asks a Spawner for processes and does not care how they are made:
// the direct spawner starts a loader per process; a smart spawner (preloader)
// can stand behind the same interface.
import type { AppSpec } from '../config/app-spec.ts';
import type { Logger } from '../log/logger.ts';
import { prepareSpawnCommand, type SpawnEnvironment } from './prepare.ts';
import { spawnProcess, type SpawnedProcess } from './spawn-process.ts';

export interface Spawner {
  spawn(app: AppSpec): Promise<SpawnedProcess>;
  /** Stops helpers such as preloaders. */
  close(): Promise<void>;
}

export function createDirectSpawner(env: SpawnEnvironment, log: Logger): Spawner {
  return {
    async spawn(app) {
      const cmd = await prepareSpawnCommand(env, app, 'direct');
      return spawnProcess(cmd, log, app.name);
    },
    async close() {},
  };
}
