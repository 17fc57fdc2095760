// The drain pause of a graceful stop: the instance already says it is not
// ready (/readyz 503) but keeps serving for drain_delay seconds, so load
// balancers and Kubernetes endpoints notice before the listening sockets
// close. Ctrl-C (SIGINT) skips it, so development stays snappy; a second
// stop signal cuts it short.

/** drain_delay when not configured: 5 s in production (a readiness probe every 2 s notices in time), 0 elsewhere. */
export function drainDelaySeconds(options: { drain_delay?: number | undefined; environment?: string | undefined }): number {
  if (options.drain_delay !== undefined) return options.drain_delay;
  return options.environment === 'production' ? 5 : 0;
}

export class DrainPause {
  #cut: (() => void) | undefined;
  #active = false;
  /** cut() came before wait(): a second signal can reach the core before its pause begins. */
  #cutEarly = false;

  /** Whether the pause is going on now. */
  get active(): boolean { return this.#active; }

  /** Waits `seconds`, or until cut() is called. Resolves with whether it was cut short. */
  wait(seconds: number): Promise<boolean> {
    if (seconds <= 0) return Promise.resolve(false);
    if (this.#cutEarly) return Promise.resolve(true);
    this.#active = true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => { this.#active = false; this.#cut = undefined; resolve(false); }, seconds * 1000);
      this.#cut = () => { clearTimeout(timer); this.#active = false; this.#cut = undefined; resolve(true); };
    });
  }

  /** Ends the pause now; false when there was none to end. `early`: also skip a pause that has not begun yet. */
  cut(early = false): boolean {
    if (!this.#cut) {
      if (early) this.#cutEarly = true;
      return false;
    }
    this.#cut();
    return true;
  }
}
