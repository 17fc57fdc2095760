// Before measuring: the load generator and the peers (installed through
// bench/install-peers.sh, which says what it did), and a fresh compiled build.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd } from './proc/launch.ts';
import { which } from './targets/which.ts';
import { repoRoot } from './targets/ours.ts';

const INSTALLER = join(repoRoot, 'bench/install-peers.sh');

/** Runs the installer for `packages`, echoing its lines. */
export async function installPackages(packages: string[], say: (line: string) => void): Promise<void> {
  const { output } = await runToEnd('sh', [INSTALLER, ...packages], { timeoutMs: 15 * 60_000 });
  for (const line of output.split('\n')) if (line.trim() && !line.startsWith('debconf:')) say(line);
}

export async function ensureWrk(say: (line: string) => void): Promise<void> {
  if (which('wrk')) return;
  say('wrk is missing: installing it');
  await installPackages(['wrk'], say);
  if (!which('wrk')) throw new Error('wrk is needed and could not be installed (Debian package "wrk"); install it and run again');
}

/** Builds dist/; true when the compiled CLI can be used. */
export async function buildOurs(say: (line: string) => void): Promise<boolean> {
  const { code, output } = await runToEnd('npm', ['run', '--silent', 'build'], { cwd: repoRoot, timeoutMs: 5 * 60_000 });
  if (code === 0) return true;
  // tsc emits despite type errors (often someone's work in progress elsewhere in the tree).
  if (existsSync(join(repoRoot, 'dist/core/cli/main.js'))) {
    say(`npm run build reported errors (exit ${code}); using the JavaScript it emitted anyway:\n${output.slice(-1500)}`);
    return true;
  }
  say(`npm run build failed (exit ${code}); measuring our server from source through tsx, which is slower:\n${output.slice(-1500)}`);
  return false;
}
