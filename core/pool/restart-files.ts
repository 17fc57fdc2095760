// Passenger's restart files, relative to the app's restart_dir (default tmp/):
// touching restart.txt asks for one (rolling) restart on the next request;
// while always_restart.txt exists, every request restarts the app (blocking).
// Looked at no more than once a second, so requests cost no stat() each.
import { statSync } from 'node:fs';
import { join } from 'node:path';

const CHECK_INTERVAL_MS = 1000;

export type RestartRequest = 'none' | 'rolling' | 'blocking';

export class RestartFiles {
  #dir: string;
  #lastCheck = 0;
  #restartMtime: number;
  #always = false;

  constructor(dir: string) {
    this.#dir = dir;
    // A restart.txt older than the group does not restart it.
    this.#restartMtime = this.#mtime('restart.txt');
  }

  /** The app's restart directory may change with its configuration. */
  set dir(dir: string) { this.#dir = dir; }

  /** What the current request asks for. */
  check(now = Date.now()): RestartRequest {
    if (now - this.#lastCheck >= CHECK_INTERVAL_MS) {
      this.#lastCheck = now;
      this.#always = this.#mtime('always_restart.txt') > 0;
      const mtime = this.#mtime('restart.txt');
      if (mtime !== this.#restartMtime) {
        this.#restartMtime = mtime;
        if (mtime > 0 && !this.#always) return 'rolling';
      }
    }
    return this.#always ? 'blocking' : 'none';
  }

  #mtime(file: string): number {
    try { return statSync(join(this.#dir, file)).mtimeMs; } catch { return 0; }
  }
}
