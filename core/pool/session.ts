import type { AppProcess } from './app-process.ts';

/** One request's claim on a process slot. Closing it releases the slot exactly once. */
export class Session {
  readonly process: AppProcess;
  readonly #release: (process: AppProcess, healthy: boolean) => void;
  #closed = false;

  constructor(process: AppProcess, release: (process: AppProcess, healthy: boolean) => void) {
    this.process = process;
    this.#release = release;
  }

  get closed(): boolean { return this.#closed; }

  /** `healthy: false` when the process broke the connection: it will not be given this slot's next request blindly. */
  close(healthy = true): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#release(this.process, healthy);
  }
}

/** A checkout that waits in the queue; `cancel` leaves it (the client went away) and rejects it with PSG_ERR_CLIENT_GONE. */
export type PendingSession = Promise<Session> & { cancel?(): void };
