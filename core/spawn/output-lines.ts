import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Keeps the last `max` lines an app printed, for error reports. */
export class OutputTail {
  readonly #max: number;
  readonly lines: string[] = [];
  constructor(max = 500) { this.#max = max; }
  push(line: string): void {
    this.lines.push(line.length > 4000 ? line.slice(0, 4000) + '…' : line);
    if (this.lines.length > this.#max) this.lines.shift();
  }
}

/** Calls `onLine` for every line of a stream; one reader for the stream's lifetime, so no byte is lost. */
export function eachLine(stream: Readable, onLine: (line: string) => void): void {
  // A pipe to a process that died can error (EPIPE, ECONNRESET): that ends the lines, it must not end the core.
  stream.on('error', () => {});
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
}
