// Shared fast-check settings for the fuzz specs: a fixed seed, so a failure in
// CI is the same failure on a laptop, and a bounded number of runs, so each
// spec file stays well under ten seconds. FUZZ_SEED and FUZZ_RUNS override
// them for a longer local hunt (`FUZZ_RUNS=100000 npx mocha ... spec/fuzz/x.spec.ts`).
import type { Parameters } from 'fast-check';

export function fuzzParameters<T>(runs: number): Parameters<T> {
  return {
    seed: Number(process.env.FUZZ_SEED ?? 20261205),
    numRuns: Number(process.env.FUZZ_RUNS ?? runs),
    // A property that takes too long in all fails (checked between runs: a single run that never returns would stall the spec).
    interruptAfterTimeLimit: 8000,
    markInterruptAsFailure: true,
  };
}

/** Splits bytes at `cuts` (positions, any order, duplicates allowed): the same bytes, delivered in pieces as a socket might. */
export function splitAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of points) { if (p > from) { pieces.push(bytes.subarray(from, p)); from = p; } }
  if (from < bytes.length) pieces.push(bytes.subarray(from));
  return pieces;
}
