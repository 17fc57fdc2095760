// Our package root, found once by walking up from this file: the source tree
// and dist/ sit at different depths, so no `../..` path is written anywhere else.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && existsSync(join(dir, 'helper-scripts'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the passenger package root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export const packageRoot = findPackageRoot();
export const helperScriptsDir = join(packageRoot, 'helper-scripts');
export const version: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

/** The absolute path of a loader script shipped in helper-scripts/. */
export function helperScript(name: string): string {
  return join(helperScriptsDir, name);
}
