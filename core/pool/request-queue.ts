// Requests waiting for a process slot, first come first served, each with an
// optional deadline (request_queue_timeout).
import type { Session } from './session.ts';

export interface Waiter {
  resolve(session: Session): void;
  reject(error: Error): void;
  enqueuedAt: number;
  timer?: NodeJS.Timeout;
}

export class RequestQueue {
  readonly #items: Waiter[] = [];

  get length(): number { return this.#items.length; }

  push(w: Waiter): void { this.#items.push(w); }

  shift(): Waiter | undefined {
    const w = this.#items.shift();
    if (w?.timer) clearTimeout(w.timer);
    return w;
  }

  remove(w: Waiter): boolean {
    const i = this.#items.indexOf(w);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    if (w.timer) clearTimeout(w.timer);
    return true;
  }

  rejectAll(error: Error): void {
    for (let w = this.shift(); w; w = this.shift()) w.reject(error);
  }

  oldestWaitMs(now = Date.now()): number {
    const first = this.#items[0];
    return first ? now - first.enqueuedAt : 0;
  }
}
