// Drives a loader by hand, as the core's spawner does (docs/protocols.md
// section 1), and sends it requests in the protocol it reported (section 2
// `session` or section 3 `http_session`), so a loader can be tested without
// the pool in between.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, chmodSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { newToken, reapLeftovers, TOKEN_VARIABLE, LeftoverProcessesError } from './processes.ts';

export interface LoaderCommand {
  /** The program (absolute, or found on PATH) and its arguments, as `resolveLoader` returns them. */
  command: string;
  args: readonly string[];
  /** Environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface StartLoaderOptions extends LoaderCommand {
  appRoot: string;
  /** Absolute path of the app's startup file. */
  startupFile: string;
  /** Handshake keys besides the core's own (app_type, threads, your plugin's keys). */
  handshake?: Readonly<Record<string, string>>;
  /** How long the loader may take to answer Ready or Error, in ms (default 15000). */
  timeoutMs?: number;
  /** Sends a request in a protocol of your own (one a plugin registers): `request` uses it for every protocol when given. */
  client?: ProtocolClient;
}

/** Sends one request to a loader's socket and resolves with the response (for a protocol other than session and http_session). */
export type ProtocolClient = (socket: SocketLine, req: Required<Pick<RequestSpec, 'method' | 'path'>> & RequestSpec) => Promise<RawResponse>;

/** A parsed `!> socket: name;address;protocol;concurrency[;flags]` line. */
export interface SocketLine { name: string; address: string; protocol: string; concurrency: number; flags: string[]; raw: string }

export interface RawResponse { status: number; headers: Record<string, string>; body: Buffer; raw: Buffer }

export interface RequestSpec {
  method?: string;
  /** The request target, `/path?query` (default `/`). */
  path?: string;
  headers?: Readonly<Record<string, string>>;
  body?: Buffer | string;
}

export interface LoaderFailureReport {
  /** The keys of the `!> Error` block (`summary`, `error_class`, ...). */
  error: Record<string, string>;
  /** What followed the block: the error's detail text. */
  detail: string;
  /** Whether the loader exited by itself within 5 s of the block, as it must. */
  exited: boolean;
}

export interface RunningLoader {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly password: string;
  readonly socketDir: string;
  /** Every control line, without `!> `, in order. */
  readonly controlLines: string[];
  /** The socket lines of the Ready block. */
  readonly sockets: SocketLine[];
  /** The app's own output: stdout lines that are not control lines, and stderr lines. */
  readonly output: string[];
  /** Resolves when the loader exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends one request to the first socket in its protocol (`session` or `http_session`), reads the response until the loader closes the connection. */
  request(req?: RequestSpec, opts?: { password?: string }): Promise<RawResponse>;
  /** The raw bytes the loader answers to a `session` head with this password (the wrong one, for instance). */
  sessionBytes(vars: Readonly<Record<string, string>>, password: string): Promise<Buffer>;
  /** Writes the shutdown byte (or closes stdin with `'eof'`), waits for the exit (SIGKILL after 10 s), then rejects with a LeftoverProcessesError if a process it started outlives it by 2 s. */
  stop(how?: 'byte' | 'eof'): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The error a loader's `!> Error` answer rejects `startLoader` with. */
export class LoaderFailedError extends Error {
  readonly failure: LoaderFailureReport;
  readonly output: string[];
  constructor(failure: LoaderFailureReport, output: string[]) {
    super(`the loader reported an error: ${failure.error.summary ?? '(no summary)'}`);
    this.name = 'LoaderFailedError';
    this.failure = failure;
    this.output = output;
  }
}

export function parseSocketLine(value: string): SocketLine {
  const [name = '', address = '', protocol = '', concurrency = '', flags = ''] = value.split(';');
  return { name, address, protocol, concurrency: /^\d+$/.test(concurrency) ? Number(concurrency) : NaN, flags: flags.split(',').filter(Boolean), raw: value };
}

function connectTo(address: string): net.Socket {
  if (address.startsWith('unix:')) return net.connect(address.slice('unix:'.length));
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`not a socket address: ${address}`);
  return net.connect(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''));
}

/** Sends `bytes`, half-closes when `halfClose`, and resolves with everything read until the peer closes (or `ms` passes). */
function exchange(address: string, bytes: Buffer, halfClose: boolean, ms = 15000): Promise<Buffer> {
  return new Promise((resolvePromise, reject) => {
    const sock = connectTo(address);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no end of the response from ${address} within ${ms} ms (${Buffer.concat(chunks).length} bytes read)`)); }, ms);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('close', () => { clearTimeout(timer); resolvePromise(Buffer.concat(chunks)); });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // A reset after the whole answer (or instead of one) is an answer too: the caller judges the bytes.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') return;
      clearTimeout(timer);
      reject(e);
    });
    sock.write(bytes);
    if (halfClose) sock.end();
  });
}

function sessionHead(pairs: Readonly<Record<string, string>>): Buffer {
  const head = Buffer.from(Object.entries(pairs).map(([k, v]) => `${k}\0${v}\0`).join(''), 'latin1');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return Buffer.concat([len, head]);
}

/**
 * Parses an HTTP/1.1 response read until the connection closed, and checks its
 * framing: a body shorter than its Content-Length, or a chunked body without
 * its last chunk, is an error naming what is wrong.
 */
export function parseResponse(raw: Buffer, method = 'GET'): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${raw.length} bytes: ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] ([1-5]\d\d)(?: .*)?$/.exec(statusLine);
  if (!m) throw new Error(`invalid status line ${JSON.stringify(statusLine)}`);
  const status = Number(m[1]);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    if (i <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(line.slice(0, i))) throw new Error(`invalid header line ${JSON.stringify(line)}`);
    const k = line.slice(0, i).toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  const rest = raw.subarray(end + 4);
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) {
    if (rest.length > 0) throw new Error(`a ${method} ${status} response carries ${rest.length} body bytes`);
    return { status, headers, body: rest, raw };
  }
  if (headers['transfer-encoding'] !== undefined) {
    if (headers['transfer-encoding'].toLowerCase() !== 'chunked') throw new Error(`unsupported Transfer-Encoding ${headers['transfer-encoding']}`);
    const parts: Buffer[] = [];
    for (let pos = 0; ;) {
      const lineEnd = rest.indexOf('\r\n', pos);
      if (lineEnd < 0) throw new Error('a chunked body that ends without its last chunk (0)');
      const size = parseInt(rest.subarray(pos, lineEnd).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error(`an invalid chunk size line ${JSON.stringify(rest.subarray(pos, lineEnd).toString('latin1'))}`);
      if (size === 0) return { status, headers, body: Buffer.concat(parts), raw };
      if (rest.length < lineEnd + 2 + size + 2) throw new Error('a chunked body cut off inside a chunk');
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (!Number.isInteger(length) || length < 0) throw new Error(`invalid Content-Length ${headers['content-length']}`);
    if (rest.length < length) throw new Error(`a body of ${rest.length} bytes, shorter than its Content-Length ${length}`);
    return { status, headers, body: rest.subarray(0, length), raw };
  }
  return { status, headers, body: rest, raw };
}

/** Starts a loader and completes the handshake; rejects with a LoaderFailedError when it answers `!> Error`. */
export async function startLoader(opts: StartLoaderOptions): Promise<RunningLoader> {
  const socketDir = mkdtempSync(join(tmpdir(), 'passenger-testkit-loader-'));
  chmodSync(socketDir, 0o700);
  const password = randomBytes(32).toString('hex');
  const token = newToken();
  const child = spawn(opts.command, [...opts.args], {
    cwd: opts.appRoot,
    env: { ...(opts.env ?? process.env), [TOKEN_VARIABLE]: token },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.on('error', () => {}); // a loader that failed is gone when we say goodbye
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  const output: string[] = [];
  const controlLines: string[] = [];
  const pending: string[] = [];
  const afterError: string[] = [];
  let inDetail = false;
  let closed = false;
  let wake: (() => void) | undefined;
  createInterface({ input: child.stderr! }).on('line', (l) => output.push(l));
  const stdout = createInterface({ input: child.stdout! });
  stdout.on('line', (l) => {
    if (inDetail) afterError.push(l);
    else if (l.startsWith('!> ')) { controlLines.push(l.slice(3)); pending.push(l.slice(3)); } else output.push(l);
    wake?.();
  });
  stdout.on('close', () => { closed = true; wake?.(); });
  const timeoutMs = opts.timeoutMs ?? 15000;
  const deadline = Date.now() + timeoutMs;
  const next = async (): Promise<string> => {
    while (pending.length === 0) {
      if (closed) throw new Error(`the loader closed stdout after ${JSON.stringify(controlLines)}; its output:\n${output.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`the loader did not answer within ${timeoutMs} ms after ${JSON.stringify(controlLines)}; its output:\n${output.join('\n')}`);
      await new Promise<void>((r) => { wake = r; setTimeout(r, 100); });
    }
    return pending.shift()!;
  };

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = (how: 'byte' | 'eof' = 'byte') => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (how === 'byte') child.stdin!.write('x');
        child.stdin!.end();
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const result = await exited;
      clearTimeout(timer);
      const left = await reapLeftovers(token, 2000);
      rmSync(socketDir, { recursive: true, force: true });
      if (left.length > 0) throw new LeftoverProcessesError(`the loader ${opts.command} ${opts.args.join(' ')}`, left);
      return result;
    })();
    return stopping;
  };

  try {
    const greeting = await next();
    if (greeting !== 'I have control 1.0') throw new Error(`the loader's first control line is ${JSON.stringify(greeting)}, not "I have control 1.0"`);
    const keys: Record<string, string> = {
      app_root: opts.appRoot, startup_file: opts.startupFile, environment: 'development', base_uri: '/',
      socket_dir: socketDir, connect_password: password, log_level: '3', ...opts.handshake,
    };
    child.stdin!.write(`You have control 1.0\n${Object.entries(keys).map(([k, v]) => `${k}: ${v}\n`).join('')}\n`);
    const status = await next();
    const block: string[] = [];
    for (let l = await next(); l !== ''; l = await next()) block.push(l);
    if (status === 'Error') {
      inDetail = true;
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      const error: Record<string, string> = {};
      for (const l of block) { const i = l.indexOf(': '); if (i > 0) error[l.slice(0, i)] = l.slice(i + 2); }
      throw new LoaderFailedError({ error, detail: afterError.join('\n'), exited: child.exitCode !== null || child.signalCode !== null }, output);
    }
    if (status !== 'Ready') throw new Error(`the loader answered ${JSON.stringify(status)}, neither "Ready" nor "Error"`);
    const sockets = block.filter((l) => l.startsWith('socket: ')).map((l) => parseSocketLine(l.slice('socket: '.length)));
    if (sockets.length === 0) throw new Error(`the loader's Ready block has no socket line: ${JSON.stringify(block)}`);
    const main = sockets[0]!;
    const request = async (req: RequestSpec = {}, ropts: { password?: string } = {}): Promise<RawResponse> => {
      const method = req.method ?? 'GET';
      const target = req.path ?? '/';
      const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
      if (opts.client) return opts.client(main, { ...req, method, path: target });
      if (main.protocol === 'session') {
        const [path = '/', query = ''] = target.split('?', 2) as [string?, string?];
        const vars: Record<string, string> = {
          PASSENGER_CONNECT_PASSWORD: ropts.password ?? password,
          REQUEST_METHOD: method, REQUEST_URI: target, SCRIPT_NAME: '', PATH_INFO: path, QUERY_STRING: query,
          SERVER_NAME: '127.0.0.1', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '40000',
          HTTP_HOST: '127.0.0.1',
        };
        if (req.body !== undefined) vars.CONTENT_LENGTH = String(body.length);
        for (const [k, v] of Object.entries(req.headers ?? {})) {
          const name = k.toLowerCase() === 'content-type' ? 'CONTENT_TYPE' : `HTTP_${k.toUpperCase().replaceAll('-', '_')}`;
          vars[name] = v;
        }
        return parseResponse(await exchange(main.address, Buffer.concat([sessionHead(vars), body]), true), method);
      }
      if (main.protocol === 'http_session') {
        const headers = { host: '127.0.0.1', connection: 'close', ...(req.body !== undefined ? { 'content-length': String(body.length) } : {}), ...req.headers };
        const head = `${method} ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
        return parseResponse(await exchange(main.address, Buffer.concat([Buffer.from(head, 'latin1'), body]), false), method);
      }
      throw new Error(`the test kit speaks session and http_session, not ${main.protocol}: pass a client for it (startLoader({ client }), or client in the loader description)`);
    };
    return {
      child, pid: child.pid!, password, socketDir, controlLines, sockets, output, exited, stop, request,
      sessionBytes: (vars, pw) => exchange(main.address, sessionHead({ PASSENGER_CONNECT_PASSWORD: pw, ...vars }), true),
    };
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await reapLeftovers(token, 1000);
    rmSync(socketDir, { recursive: true, force: true });
    throw e;
  }
}
