// A response buffer between an app process and a slow client, as Passenger's
// core has: once a client has held the app back for HOLD_BUDGET_MS in all,
// the app's bytes are taken as fast as it writes them (memory up to
// MEMORY_LIMIT, then a spill file) and go to the client at the client's pace,
// so the process is free for the next request long before a slow download
// ends. Before that, backpressure works as without a buffer: a fast client's
// brief stalls cost no copy and no file. Streams (no Content-Length: chunked
// or until close, and text/event-stream) always keep backpressure on the app:
// they may never end, and a buffer would only grow.
import type { FrontResponse } from '../front.ts';
import { MEMORY_LIMIT } from './request-body.ts';
import { SPILL_READ_SIZE, SpillFile } from './spill-file.ts';

/** How long a client may hold the app back (stalls added up) before the response is buffered. */
export const HOLD_BUDGET_MS = 100;

/** Whether a response with these headers has a known length and is not an event stream. */
function spoolable(headers: readonly string[]): boolean {
  let sized = false;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 && name.toLowerCase() === 'content-length') sized = true;
    else if (name.length === 12 && name.toLowerCase() === 'content-type' && headers[i + 1]!.trimStart().toLowerCase().startsWith('text/event-stream')) return false;
  }
  return sized;
}

export class SpoolingResponse implements FrontResponse {
  readonly #inner: FrontResponse;
  readonly #dir: string;
  /** Decided at writeHead: false passes everything through. */
  #spool = false;
  /** The client used up HOLD_BUDGET_MS: from now on it never holds the app back. */
  #engaged = false;
  /** Time the client held the app back so far, in ms. */
  #heldMs = 0;
  #heldSince = 0;
  /** The caller's drain callback while the client holds the app back. */
  #appHeld: (() => void) | undefined;
  #budgetTimer: NodeJS.Timeout | undefined;
  /** Engaged, and the client did not take the last write: what follows is queued until it drains. */
  #slow = false;
  #memory: Buffer[] = [];
  #memoryBytes = 0;
  #file: SpillFile | undefined;
  /** Position in the spill file of the next byte for the client. */
  #fileRead = 0;
  #reading = false;
  /** Waiting for the client's 'drain' (one listener at a time). */
  #drainPending = false;
  /** Whether the last chunk written went to the client as a view (not copied): the caller must not reuse its memory. */
  #lastHeld = false;
  #ended = false;
  #over = false;
  /** The app is paused until the spill file's writes caught up (a slow disk). */
  #appWaiting: (() => void) | undefined;
  #finished: Promise<void> | undefined;
  #finish: (() => void) | undefined;

  constructor(inner: FrontResponse, dir: string) {
    this.#inner = inner;
    this.#dir = dir;
  }

  get headersSent(): boolean { return this.#inner.headersSent; }
  get clientGone(): boolean { return this.#inner.clientGone; }

  /** Once the client was slow: resolves when everything buffered reached it (or it went away). Undefined while nothing was held back. */
  get finished(): Promise<void> | undefined { return this.#finished; }

  writeHead(status: number, reason: string, headers: string[]): void {
    this.#spool = spoolable(headers);
    this.#inner.writeHead(status, reason, headers);
  }

  write(chunk: Buffer): boolean {
    if (!this.#spool) return this.#inner.write(chunk);
    if (this.#over) return true;
    // Not engaged: plain backpressure (the caller waits for onDrain).
    if (!this.#engaged) return this.#inner.write(chunk);
    if (!this.#slow) {
      const flowing = this.#inner.write(chunk);
      this.#lastHeld = this.#inner.holdsData();
      if (!flowing) this.#becomeSlow();
      return true;
    }
    this.#lastHeld = false;
    const file = this.#file;
    if (!file && this.#memoryBytes + chunk.length <= MEMORY_LIMIT) {
      // A copy: the caller's chunk is a view of a buffer it reuses.
      this.#memory.push(Buffer.from(chunk));
      this.#memoryBytes += chunk.length;
      return true;
    }
    if (!file) {
      try {
        this.#file = new SpillFile(this.#dir, 'response');
      } catch {
        // No room for a file: fall back to holding the app back, as without a buffer.
        this.#memory.push(Buffer.from(chunk));
        this.#memoryBytes += chunk.length;
        return false;
      }
      this.#file.onProgress(this.#onFileProgress);
    }
    this.#file!.append(Buffer.from(chunk));
    return this.#file!.pending <= MEMORY_LIMIT;
  }

  holdsData(): boolean { return this.#slow ? this.#lastHeld : this.#inner.holdsData(); }

  /** Every chunk the caller wrote was copied here or passed on; the client side's 'finish' comes after the last of them. */
  onFlushed(cb: () => void): void { this.#inner.onFlushed?.(cb); }

  end(): void {
    this.#ended = true;
    clearTimeout(this.#budgetTimer);
    // Still queued: the drain loop ends the response once the client has it all.
    if (this.#slow && !this.#over) return;
    this.#inner.end();
    if (this.#finished || this.#file) this.#cleanup();
  }

  abort(): void {
    this.#cleanup();
    this.#inner.abort();
  }

  onDrain(cb: () => void): void {
    if (!this.#spool) { this.#inner.onDrain(cb); return; }
    if (!this.#engaged) {
      // The client holds the app back: until it drains, or until the budget is used up.
      this.#appHeld = cb;
      this.#heldSince = performance.now();
      this.#inner.onDrain(this.#onHeldDrain);
      this.#budgetTimer = setTimeout(this.#engage, Math.max(0, HOLD_BUDGET_MS - this.#heldMs));
      this.#budgetTimer.unref();
      return;
    }
    // Engaged, after write() returned false: the spill file's writes or a failed spill hold the app back.
    if (this.#file) this.#appWaiting = cb;
    else this.#inner.onDrain(cb);
  }

  onClose(cb: () => void): void { this.#inner.onClose(cb); }

  readonly #onHeldDrain = (): void => {
    const resume = this.#appHeld;
    // Engaged meanwhile: this drain is the queue's.
    if (!resume) { this.#onClientDrain(); return; }
    clearTimeout(this.#budgetTimer);
    this.#appHeld = undefined;
    this.#heldMs += performance.now() - this.#heldSince;
    resume();
  };

  /** The client used up the budget: the app goes on, its output is queued from now on. */
  readonly #engage = (): void => {
    const resume = this.#appHeld;
    if (!resume || this.#ended || this.#over) return;
    this.#appHeld = undefined;
    this.#engaged = true;
    // The client side still holds the last chunk written, a view of the caller's buffer (the caller sees holdsData()).
    this.#lastHeld = true;
    // The held drain listener (#onHeldDrain) is still registered: it serves the queue.
    this.#drainPending = true;
    this.#startQueueing();
    resume();
  };

  #becomeSlow(): void {
    this.#startQueueing();
    this.#awaitClientDrain();
  }

  #startQueueing(): void {
    this.#slow = true;
    if (!this.#finished) {
      this.#finished = new Promise((r) => { this.#finish = r; });
      this.#inner.onClose(this.#onClientGone);
    }
  }

  #awaitClientDrain(): void {
    if (this.#drainPending) return;
    this.#drainPending = true;
    this.#inner.onDrain(this.#onClientDrain);
  }

  readonly #onClientGone = (): void => { this.#cleanup(); };

  /** The client took what it had: give it what is queued, in order (memory, then the file). */
  readonly #onClientDrain = (): void => {
    this.#drainPending = false;
    if (this.#over) return;
    const inner = this.#inner;
    while (this.#memory.length > 0) {
      const chunk = this.#memory.shift()!;
      this.#memoryBytes -= chunk.length;
      if (!inner.write(chunk)) { this.#awaitClientDrain(); return; }
    }
    const file = this.#file;
    if (file && this.#fileRead < file.size) { this.#readFile(); return; }
    this.#caughtUp();
  };

  #readFile(): void {
    const file = this.#file!;
    if (this.#reading) return;
    const available = file.written - this.#fileRead;
    // Bytes appended but not on disk yet: the next completed write calls back here.
    if (available === 0) return;
    this.#reading = true;
    file.read(this.#fileRead, Math.min(SPILL_READ_SIZE, available), (err, data) => {
      this.#reading = false;
      if (this.#over) return;
      if (err) { this.abort(); return; }
      this.#fileRead += data.length;
      if (this.#inner.write(data)) this.#onClientDrain();
      else this.#awaitClientDrain();
    });
  }

  readonly #onFileProgress = (): void => {
    const file = this.#file!;
    if (file.error) { this.abort(); return; }
    if (this.#appWaiting && file.pending <= MEMORY_LIMIT / 2) {
      const resume = this.#appWaiting;
      this.#appWaiting = undefined;
      resume();
    }
    // The reader waited for these bytes to reach the disk.
    if (this.#memory.length === 0 && !this.#reading && !this.#drainPending && this.#fileRead < file.written) this.#readFile();
  };

  /** Nothing is queued any more: chunks go straight through again until the client is slow again. */
  #caughtUp(): void {
    const file = this.#file;
    if (file && this.#fileRead < file.size) return;
    this.#slow = false;
    if (this.#ended) {
      this.#inner.end();
      this.#cleanup();
    }
  }

  #cleanup(): void {
    if (this.#over) return;
    this.#over = true;
    clearTimeout(this.#budgetTimer);
    this.#memory = [];
    this.#memoryBytes = 0;
    this.#file?.remove();
    this.#file = undefined;
    const resume = this.#appWaiting;
    this.#appWaiting = undefined;
    resume?.();
    this.#finish?.();
  }
}
