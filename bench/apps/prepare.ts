// Fresh private copies of the hello-world apps for each server run: servers
// write logs and pid files into app directories, and Passenger detects the app
// type from which startup file is present, so each copy holds one app only.
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { AppKind } from '../targets/target.ts';

const SOURCE = join(import.meta.dirname, 'hello');

const FILES: Record<AppKind, string[]> = {
  rack: ['config.ru'],
  wsgi: ['passenger_wsgi.py'],
  asgi: ['passenger_asgi.py'],
  node: ['app.js', 'bare-cluster.cjs'],
  generic: ['app.js'],
  php: ['index.php'],
};

/** A new directory under `parent` with the app's files, and a scratch directory beside it. */
export function prepareApp(parent: string, kind: AppKind, label: string): { appDir: string; workDir: string } {
  const dir = mkdtempSync(join(parent, `${label}-`));
  const appDir = join(dir, 'app');
  const workDir = join(dir, 'work');
  mkdirSync(appDir);
  mkdirSync(workDir);
  for (const f of FILES[kind]) copyFileSync(join(SOURCE, f), join(appDir, f));
  return { appDir, workDir };
}
