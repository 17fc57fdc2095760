// The environment the watchdog starts the core with: its own, plus glibc
// malloc settings meant for the core alone (the core takes them out again at
// start, before it spawns anything, so apps keep the environment they had).
//
// Why: the core allocates on one thread, but node's helper threads each got
// an arena of their own, which kept freed memory apart: one arena took the
// core's RSS after the bench's loads down by about 10 MiB. (Mapping large
// blocks on their own, MALLOC_MMAP_THRESHOLD_, saved a little more but cut
// 10 MiB uploads to a third: a page fault per 4 KiB of every body chunk.)
const CORE_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

/** Names the watchdog added, for the core to remove. */
const ADDED = 'PASSENGER_CORE_ADDED_ENV';

export function coreEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // Whoever set malloc up themselves keeps their settings.
  if (env.GLIBC_TUNABLES !== undefined) return env;
  const added = Object.keys(CORE_MALLOC_ENV).filter((name) => env[name] === undefined);
  if (added.length === 0) return env;
  const out: NodeJS.ProcessEnv = { ...env, [ADDED]: added.join(',') };
  for (const name of added) out[name] = CORE_MALLOC_ENV[name];
  return out;
}

/** In the core: forgets what the watchdog added (malloc read it when the process started). */
export function dropCoreOnlyEnvironment(env: NodeJS.ProcessEnv): void {
  for (const name of (env[ADDED] ?? '').split(',')) if (name) delete env[name];
  delete env[ADDED];
}
