// Where the passenger-ts package is, and how to run its CLI, from wherever
// this module was loaded: dist/testing/ in an installed package (run the
// package's own bin), or testing/ in a source checkout (run the TypeScript
// CLI through tsx, so the repository's specs need no build).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'passenger-ts') return dir;
    if (dirname(dir) === dir) throw new Error(`passenger-ts/testing: no package.json of passenger-ts above ${from}`);
  }
}

export const packageRoot = findPackageRoot(import.meta.dirname);

/** The command line that runs `passenger` (program and leading arguments). */
export function passengerCommandLine(): string[] {
  if (import.meta.url.endsWith('.ts')) {
    return [process.execPath, '--import', import.meta.resolve('tsx'), join(packageRoot, 'core/cli/main.ts')];
  }
  return [process.execPath, join(packageRoot, 'bin/passenger.js')];
}

/** An absolute path to a file the package ships in helper-scripts/ (the built-in loaders). */
export function helperScript(name: string): string {
  return join(packageRoot, 'helper-scripts', name);
}
