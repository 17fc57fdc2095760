// Drives a loader from helper-scripts/ directly, speaking docs/protocols.md
// sections 1 and 2 by hand, so loader specs do not depend on the pool.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { randomBytes } from 'node:crypto';

export interface LoaderRun {
  child: ChildProcess;
  socketPath: string;
  protocol: string;
  concurrency: number;
  /** The socket line's optional fifth field (e.g. `keepalive`). */
  socketFlags: string | undefined;
  password: string;
  /** Lines the loader printed that were not control lines, and stderr. */
  output: string[];
  stop(): Promise<void>;
}

export interface LoaderFailure {
  error: Record<string, string>;
  detail: string;
  output: string[];
}

export interface StartLoaderOptions {
  command: string;
  args: string[];
  appRoot: string;
  startupFile: string;
  extra?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** Starts a loader and completes the handshake; rejects with a LoaderFailure-carrying Error on `!> Error`. */
export async function startLoader(opts: StartLoaderOptions): Promise<LoaderRun> {
  const socketDir = mkdtempSync(join(tmpdir(), 'loader-spec-'));
  const password = randomBytes(16).toString('hex');
  const child = spawn(opts.command, opts.args, {
    cwd: opts.appRoot,
    env: opts.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A loader that failed has exited by the time stop() says goodbye: ignore that EPIPE.
  child.stdin!.on('error', () => {});
  const output: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  const lines = createInterface({ input: child.stdout! });
  const control: string[] = [];
  let waiter: (() => void) | undefined;
  let closed = false;
  lines.on('line', (l) => {
    if (l.startsWith('!> ')) control.push(l.slice(3));
    else output.push(l);
    waiter?.();
  });
  lines.on('close', () => { closed = true; waiter?.(); });
  const deadline = Date.now() + (opts.timeoutMs ?? 15000);
  const next = async (): Promise<string> => {
    while (control.length === 0) {
      if (closed) throw new Error(`loader closed stdout; output:\n${output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`loader timed out; output:\n${output.join('\n')}`);
      await new Promise<void>((r) => { waiter = r; setTimeout(r, 100); });
    }
    return control.shift()!;
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end('x');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(socketDir, { recursive: true, force: true });
  };
  try {
    const hello = await next();
    if (hello !== 'I have control 1.0') throw new Error(`unexpected greeting ${hello}`);
    const keys: Record<string, string> = {
      app_root: opts.appRoot,
      startup_file: opts.startupFile,
      environment: 'development',
      base_uri: '/',
      socket_dir: socketDir,
      connect_password: password,
      log_level: '3',
      ...opts.extra,
    };
    child.stdin!.write('You have control 1.0\n' + Object.entries(keys).map(([k, v]) => `${k}: ${v}\n`).join('') + '\n');
    const status = await next();
    const block: Record<string, string> = {};
    for (let l = await next(); l !== ''; l = await next()) {
      const i = l.indexOf(': ');
      block[l.slice(0, i)] = l.slice(i + 2);
    }
    if (status === 'Error') {
      await new Promise((r) => (closed ? r(null) : lines.once('close', r)));
      const failure: LoaderFailure = { error: block, detail: output.join('\n'), output };
      throw Object.assign(new Error(`loader error: ${block.summary}`), { failure });
    }
    if (status !== 'Ready') throw new Error(`unexpected status ${status}`);
    const [, address, protocol, concurrency, socketFlags] = block.socket!.split(';');
    return {
      child, password, output, stop,
      socketPath: address!.replace(/^unix:/, ''),
      protocol: protocol!,
      concurrency: Number(concurrency),
      socketFlags,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A session-protocol request head: its 4-byte big-endian length, then KEY\0VALUE\0 pairs in this encoding. */
export function sessionHead(pairs: Record<string, string>, encoding: BufferEncoding = 'latin1'): Buffer {
  const head = Buffer.from(Object.entries(pairs).map(([k, v]) => `${k}\0${v}\0`).join(''), encoding);
  const out = Buffer.alloc(4 + head.length);
  out.writeUInt32BE(head.length);
  head.copy(out, 4);
  return out;
}

/** Sends one session-protocol request and resolves with the raw response bytes (until the loader closes). */
export function sessionRequest(
  run: Pick<LoaderRun, 'socketPath' | 'password'>,
  vars: Record<string, string>,
  body?: Buffer | Iterable<Buffer>,
  opts: { password?: string; headWithBody?: boolean } = {},
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(run.socketPath);
    const chunks: Buffer[] = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('end', () => resolve(Buffer.concat(chunks)));
    sock.on('error', reject);
    const pairs = { PASSENGER_CONNECT_PASSWORD: opts.password ?? run.password, ...vars };
    const head = sessionHead(pairs, 'utf8');
    const parts = body === undefined ? [] : Buffer.isBuffer(body) ? [body] : [...body];
    // headWithBody: the first part goes out in the head's write, as the core sends a head and a body's first bytes.
    if (opts.headWithBody && parts.length > 0) parts[0] = Buffer.concat([head, parts[0]!]);
    else sock.write(head);
    for (const part of parts) sock.write(part);
    sock.end();
  });
}

/** Splits a raw HTTP/1.1 response into status, headers and the de-chunked body. */
export function parseRawResponse(raw: Buffer): { status: number; headers: Record<string, string>; body: Buffer } {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no header terminator in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1]);
  const headers: Record<string, string> = {};
  for (const l of headerLines) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const lineEnd = body.indexOf('\r\n', pos);
      const size = parseInt(body.subarray(pos, lineEnd).toString('latin1'), 16);
      if (size === 0) break;
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, headers, body };
}

export interface KeptResponse { status: number; headers: Record<string, string>; body: Buffer }

/**
 * One session connection kept alive (docs/protocols.md section 2): each request
 * carries PASSENGER_KEEP_ALIVE and a known body length; a response is read by
 * its framing, and the connection stays open for the next one.
 */
export class KeepAliveSession {
  readonly sock: net.Socket;
  readonly #password: string;
  #buf: Buffer = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  #ended = false;
  readonly closed: Promise<void>;

  constructor(run: Pick<LoaderRun, 'socketPath' | 'password'>) {
    this.#password = run.password;
    this.sock = net.connect(run.socketPath);
    this.sock.on('data', (d: Buffer) => { this.#buf = Buffer.concat([this.#buf, d]); this.#wake?.(); });
    this.closed = new Promise((resolve) => this.sock.on('close', () => { this.#ended = true; this.#wake?.(); resolve(); }));
    this.sock.on('end', () => { this.#ended = true; this.#wake?.(); });
    this.sock.on('error', () => { this.#ended = true; this.#wake?.(); });
  }

  /** Resolves with `n` more bytes (or throws if the connection ends first). */
  async #take(n: number): Promise<Buffer> {
    while (this.#buf.length < n) await this.#more();
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  async #line(): Promise<string> {
    let i: number;
    while ((i = this.#buf.indexOf('\r\n')) < 0) await this.#more();
    return (await this.#take(i + 2)).toString('latin1', 0, i);
  }

  #more(): Promise<void> {
    if (this.#ended) return Promise.reject(new Error(`the loader closed the connection (${this.#buf.length} bytes unread)`));
    return new Promise((r) => { this.#wake = () => { this.#wake = null; r(); }; });
  }

  async request(vars: Record<string, string>, body?: Buffer): Promise<KeptResponse> {
    const pairs: Record<string, string> = { PASSENGER_CONNECT_PASSWORD: this.#password, PASSENGER_KEEP_ALIVE: '1', ...vars };
    if (body) pairs.CONTENT_LENGTH = String(body.length);
    const head = sessionHead(pairs);
    this.sock.write(body ? Buffer.concat([head, body]) : head);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(await this.#line())?.[1]);
    const headers: Record<string, string> = {};
    for (let l = await this.#line(); l !== ''; l = await this.#line()) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    let resBody: Buffer = Buffer.alloc(0);
    if (vars.REQUEST_METHOD === 'HEAD' || status === 204 || status === 304) return { status, headers, body: resBody };
    if (headers['content-length'] !== undefined) resBody = await this.#take(Number(headers['content-length']));
    else if (headers['transfer-encoding'] === 'chunked') {
      const parts: Buffer[] = [];
      for (let size = parseInt(await this.#line(), 16); size > 0; size = parseInt(await this.#line(), 16)) {
        parts.push(await this.#take(size));
        await this.#take(2);
      }
      while ((await this.#line()) !== '');
      resBody = Buffer.concat(parts);
    } else throw new Error('an unframed response on a kept-alive connection');
    return { status, headers, body: resBody };
  }

  /** Ends our side: the loader should close its side in turn. */
  end(): Promise<void> {
    this.sock.end();
    return this.closed;
  }

  get isClosed(): boolean { return this.#ended; }
}
