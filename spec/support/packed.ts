// `npm pack` of this repository (its prepare script builds dist/), made once
// per mocha run and shared by the specs that install the package as a user or
// a plugin author would, and `npm install` into a directory from it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './passenger.ts';

let tarball: string | undefined;

/** The path of the packed passenger-ts tarball (packed on first use, in a temp dir left for the OS to clean). */
export function packedTarball(): string {
  if (tarball === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'psg-pack-'));
    const name = execFileSync('npm', ['pack', '--pack-destination', dir, '--silent'], { cwd: repoRoot, encoding: 'utf8' }).trim().split('\n').pop()!;
    tarball = join(dir, name);
  }
  return tarball;
}

/** `npm install` in `dir` (its package.json says what), from npm's cache where it can (npm ci put the repository's dependencies there). */
export function npmInstall(dir: string, packages: string[] = []): void {
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'error', ...packages], { cwd: dir, stdio: 'pipe' });
}

/** Runs mocha (this repository's copy) on the given spec files in `dir`, as the plugin's own `npm test` would. */
export function mochaCommand(): string[] {
  return [process.execPath, join(repoRoot, 'node_modules/mocha/bin/mocha.js')];
}
