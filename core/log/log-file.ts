// A log destination that logrotate can move away: lines are appended to a
// file opened by path, and reopen() (the `reload` hook, SIGHUP) starts a new
// file at that path after the old one was renamed. `-` means stdout.
//
// Lines are batched: written once 64 KiB are pending or 100 ms after the
// first of them (as nginx's access_log buffer= and flush=), so a busy server
// pays one system call per batch rather than one per request or per turn of
// the event loop. Pending lines are encoded into one reused buffer at once
// (see PendingLines for why). reopen() and process exit write what is
// pending first, so a rotation loses no line; a core killed with SIGKILL
// loses at most the last 100 ms.
import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PassengerError } from '../errors/passenger-error.ts';
import { describeControl, onlyRootControls, pathControl } from '../security/path-control.ts';

/** A batch is written once this much is pending, */
const FLUSH_BYTES = 64 * 1024;
/** or this long after its first line. */
const FLUSH_MS = 100;

/**
 * Lines waiting to be written together (see the top of this file), encoded
 * into one reused buffer as they come. Kept as strings, a batch held every
 * line's pieces (each line is a tree of small strings) across many young
 * generation collections, which copied and promoted them: the JSON access
 * log's GC time doubled.
 */
class PendingLines {
  readonly #buffer = Buffer.allocUnsafe(FLUSH_BYTES);
  #used = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Gets bytes it must not keep: the buffer is reused once it returns. */
  readonly #writeOut: (bytes: Buffer) => void;
  constructor(writeOut: (bytes: Buffer) => void) {
    this.#writeOut = writeOut;
  }
  add(line: string): void {
    const text = line + '\n';
    // Room for the worst case (3 bytes of UTF-8 per UTF-16 unit): encoded straight in, without measuring first.
    if (FLUSH_BYTES - this.#used < 3 * text.length) {
      const length = Buffer.byteLength(text);
      // It may not fit whole: what is pending goes first, and a line longer than the buffer goes alone.
      if (this.#used + length > FLUSH_BYTES) {
        this.flush();
        if (length > FLUSH_BYTES) { this.#writeOut(Buffer.from(text)); return; }
      }
    }
    this.#used += this.#buffer.write(text, this.#used);
    // unref: a pending batch never keeps the process alive; exit flushes it.
    this.#timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }
  /** Writes what is pending, now. */
  flush(): void {
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.#used === 0) return;
    const bytes = this.#buffer.subarray(0, this.#used);
    this.#used = 0;
    this.#writeOut(bytes);
  }
}

export interface LineWriter {
  /** `line` without its newline. */
  write(line: string): void;
  /** Starts a new file at the same path (after logrotate renamed the old one). */
  reopen(): void;
  /** Writes what is pending, now. */
  flush(): void;
  close(): void;
  readonly path: string;
}

function whyNot(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'it is a symbolic link';
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'its directory does not exist';
  if (code === 'EACCES') return `permission denied for uid ${process.getuid?.()}`;
  return code ?? String(e);
}

const FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/**
 * Opens `path` for appending. As root, the directory must be one only root
 * controls (else whoever controls it could point the name at /etc/shadow),
 * and a symbolic link is refused (O_NOFOLLOW). `key` names the option, for errors.
 */
function openAppend(path: string, key: string): number {
  if (process.getuid?.() === 0) {
    let control;
    try { control = pathControl(dirname(path)); } catch (e) {
      throw new PassengerError('PSG_ERR_LOG_FILE', `${key}: cannot open ${path} for appending: ${whyNot(e)}`, { key, path });
    }
    if (!onlyRootControls(control)) {
      throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH',
        `${key}: the server runs as root and will not write ${path}: ${describeControl(control)}; put the log in a directory only root can change (for example /var/log/passenger)`, { key, path });
    }
  }
  let fd: number;
  try {
    fd = openSync(path, FLAGS, 0o640);
  } catch (e) {
    throw new PassengerError('PSG_ERR_LOG_FILE', `${key}: cannot open ${path} for appending: ${whyNot(e)}`, { key, path });
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new PassengerError('PSG_ERR_LOG_FILE', `${key}: ${path} is not a regular file`, { key, path });
  }
  return fd;
}

class FileWriter implements LineWriter {
  readonly path: string;
  readonly #key: string;
  #fd: number;
  readonly #pending = new PendingLines((bytes) => this.#append(bytes));

  constructor(path: string, key: string) {
    this.path = path;
    this.#key = key;
    this.#fd = openAppend(path, key);
  }

  write(line: string): void {
    this.#pending.add(line);
  }

  flush(): void {
    this.#pending.flush();
  }

  #append(bytes: Buffer): void {
    if (this.#fd < 0) return;
    try {
      // O_APPEND: a regular file takes the whole write at once.
      writeSync(this.#fd, bytes);
    } catch (e) {
      // A full disk must not end the server; say so where someone looks.
      process.stderr.write(`[passenger] ERROR: ${this.#key}: cannot write to ${this.path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}\n`);
    }
  }

  reopen(): void {
    this.flush();
    // Opened before the old one is closed: if the new one fails, lines keep going to the old file.
    const fd = openAppend(this.path, this.#key);
    closeSync(this.#fd);
    this.#fd = fd;
  }

  close(): void {
    this.flush();
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}

/** stdout: the terminal in development, the journal under systemd. */
class StdoutWriter implements LineWriter {
  readonly path = '-';
  // A copy: stdout (a pipe, say) may keep the chunk queued after write() returned.
  readonly #pending = new PendingLines((bytes) => process.stdout.write(Buffer.from(bytes)));
  write(line: string): void {
    this.#pending.add(line);
  }
  flush(): void {
    this.#pending.flush();
  }
  reopen(): void { this.flush(); }
  close(): void { this.flush(); }
}

// One writer per path in this process: two apps with the same app_log_file share it.
const writers = new Map<string, LineWriter>();
let exitHooked = false;

/**
 * The writer for `path` (`-`: stdout), relative paths resolved against `base`.
 * Throws PSG_ERR_LOG_FILE or PSG_ERR_CONFIG_UNSAFE_PATH, naming `key`.
 */
export function openLogWriter(path: string, key: string, base = process.cwd()): LineWriter {
  const full = path === '-' ? '-' : resolve(base, path);
  let w = writers.get(full);
  if (w) return w;
  w = full === '-' ? new StdoutWriter() : new FileWriter(full, key);
  writers.set(full, w);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', flushLogWriters);
  }
  return w;
}

/** Reopens every file (SIGHUP, `passenger reload`); returns the errors, the old files stay in use for those. */
export function reopenLogWriters(): Error[] {
  const errors: Error[] = [];
  for (const w of writers.values()) {
    try { w.reopen(); } catch (e) { errors.push(e as Error); }
  }
  return errors;
}

export function flushLogWriters(): void {
  for (const w of writers.values()) w.flush();
}
