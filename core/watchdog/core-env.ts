// The environment the watchdog starts the core with: its own, plus glibc
// malloc settings meant for the core alone (the core takes them out again at
// start, before it spawns anything, so apps keep the environment they had).
//
// Why: the core allocates on one thread, and its large buffers (request body
// chunks, read buffers) die young. One arena instead of one per thread, and
// blocks of 32 KiB and more mapped on their own so that freeing them gives
// the memory back, took the core's RSS after the bench's loads from 88-96 MiB
// to 74-85 MiB, with no change in throughput beyond the noise.
const CORE_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '32768' };

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
