// A histogram that is only numbers: observing a value finds its bucket and
// adds to typed-array counters, allocating nothing (prom-client's own
// histograms build a label hash string and objects on every observe).
// The exposition reads it at scrape time (exposition.ts).
export class FixedHistogram {
  readonly bounds: readonly number[];
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/** Seconds, from a fast cached answer to a minute-long upload. */
export const REQUEST_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds waiting for a process: usually none at all. */
export const QUEUE_SECONDS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];
/** Seconds to start a process: a fork from a preloader to a cold Rails boot. */
export const SPAWN_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
