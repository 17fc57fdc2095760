import type { JourneyStep } from '../errors/report.ts';

/** The steps of one spawn, with durations; the failed step is the report's headline. */
export class Journey {
  readonly #steps: JourneyStep[];
  #current = 0;
  #startedAt = performance.now();

  constructor(names: string[]) {
    this.#steps = names.map((name) => ({ name, state: 'not_reached' }));
  }

  /** Marks the current step done and moves on to `name`. */
  reach(name: string): void {
    const i = this.#steps.findIndex((s) => s.name === name);
    if (i < 0) return;
    const now = performance.now();
    for (let j = this.#current; j < i; j++) {
      const step = this.#steps[j]!;
      step.state = 'done';
      if (j === this.#current) step.durationMs = Math.round(now - this.#startedAt);
    }
    this.#current = i;
    this.#startedAt = now;
  }

  fail(): JourneyStep[] {
    const step = this.#steps[this.#current];
    if (step) { step.state = 'failed'; step.durationMs = Math.round(performance.now() - this.#startedAt); }
    return this.steps();
  }

  finish(): JourneyStep[] {
    const step = this.#steps[this.#current];
    if (step) step.durationMs = Math.round(performance.now() - this.#startedAt);
    for (let j = this.#current; j < this.#steps.length; j++) this.#steps[j]!.state = 'done';
    return this.steps();
  }

  steps(): JourneyStep[] { return this.#steps.map((s) => ({ ...s })); }
}
