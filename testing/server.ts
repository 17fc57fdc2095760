// Starts the real `passenger run` (this package's own CLI) on a fixture app,
// on a free loopback port, with a private instance registry, and stops it
// again, checking that every process it started is gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../core/index.ts';
import { passengerCommandLine } from './package-root.ts';
import { LeftoverProcessesError, newToken, processesWithToken, reapLeftovers, TOKEN_VARIABLE, type ProcessInfo } from './processes.ts';

export type OptionValue = string | number | boolean | readonly string[];

export interface StartServerOptions {
  /** Plugins to load, as the `plugins` option takes them; a directory is replaced by its package's entry file. */
  plugins?: readonly string[];
  /** Server and plugin options by their snake_case name (`{ max_pool_size: 2 }`), passed as `--max-pool-size 2`. */
  options?: Readonly<Record<string, OptionValue>>;
  /** More command-line arguments for `passenger run`. */
  args?: readonly string[];
  /** The server's environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** The server's working directory (default: this process's). */
  cwd?: string;
  /** How long to wait for the server to serve, in ms (default 30000). */
  timeoutMs?: number;
}

export interface StopResult { code: number | null; signal: NodeJS.Signals | null }

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The PID of the `passenger` process. */
  readonly pid: number;
  /** `fetch` relative to the server's URL: `server.fetch('/users?page=2', { method: 'POST', body })`. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Everything the server printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first match of `re` in the output; rejects when the server exits or after `timeoutMs` (default 20000). */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  /** The live processes the server started (itself included): app processes, preloaders, anything they forked. */
  processes(): ProcessInfo[];
  /**
   * Sends `signal` (SIGTERM by default) and waits for the server to exit (SIGKILL after
   * `timeoutMs`, default 30000). Then rejects with a LeftoverProcessesError if a process it
   * started is still alive 5 s later (killing them), or if its instance directory is left;
   * resolves with its exit code and signal otherwise. Calling it again just returns the result.
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<StopResult>;
}

/** A plugin entry for `--plugins`: a directory is a package, whose entry file the server can import. */
export function pluginEntryFile(entry: string): string {
  if (!existsSync(entry) || !statSync(entry).isDirectory()) return entry;
  const pkg = JSON.parse(readFileSync(join(entry, 'package.json'), 'utf8')) as { exports?: unknown; main?: string };
  let target: unknown = pkg.exports;
  while (target !== null && typeof target === 'object') {
    const map = target as Record<string, unknown>;
    target = map['.'] ?? map.import ?? map.default;
  }
  return resolve(entry, typeof target === 'string' ? target : pkg.main ?? 'index.js');
}

function flags(options: Readonly<Record<string, OptionValue>>): string[] {
  return Object.entries(options).flatMap(([name, value]) => {
    const flag = `--${name.replaceAll('_', '-')}`;
    if (typeof value === 'boolean') return [value ? flag : `--no-${name.replaceAll('_', '-')}`];
    return [flag, Array.isArray(value) ? value.join(',') : String(value)];
  });
}

/** Starts `passenger run APP_DIR` and resolves once it serves; rejects with its output if it exits or times out first. */
export async function startServer(appDir: string, opts: StartServerOptions = {}): Promise<TestServer> {
  const port = await freePort('127.0.0.1');
  const registryDir = mkdtempSync(join(tmpdir(), 'passenger-testkit-'));
  chmodSync(registryDir, 0o711); // apps running as another user pass through to their own socket directory
  const token = newToken();
  const [program, ...leading] = passengerCommandLine();
  const args = [...leading, 'run', resolve(appDir), '--port', String(port), '--instance-registry-dir', registryDir,
    ...(opts.plugins?.length ? ['--plugins', opts.plugins.map(pluginEntryFile).join(',')] : []),
    ...flags(opts.options ?? {}), ...(opts.args ?? [])];
  const child: ChildProcess = spawn(program!, args, {
    env: { ...(opts.env ?? process.env), [TOKEN_VARIABLE]: token },
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => { out += d.toString(); for (const l of listeners) l(); };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<StopResult>((r) => child.once('exit', (code, signal) => { for (const l of listeners) l(); r({ code, signal }); }));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;

  const waitForOutput = (re: RegExp, timeoutMs = 20000) => new Promise<string>((res, rej) => {
    const check = (): boolean => {
      const m = re.exec(out);
      if (m) { done(); res(m[0]); return true; }
      if (hasExited()) { done(); rej(new Error(`passenger exited before printing ${re}; its output:\n${out}`)); return true; }
      return false;
    };
    const timer = setTimeout(() => { done(); rej(new Error(`passenger did not print ${re} within ${timeoutMs} ms; its output:\n${out}`)); }, timeoutMs);
    const listener = () => { check(); };
    const done = () => { clearTimeout(timer); listeners.delete(listener); };
    if (!check()) listeners.add(listener);
  });

  let stopped: Promise<StopResult> | undefined;
  const stop = (signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30000): Promise<StopResult> => {
    stopped ??= (async () => {
      if (!hasExited()) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      const left = await reapLeftovers(token);
      const instances = readdirSync(registryDir).filter((n) => n.startsWith('passenger.'));
      rmSync(registryDir, { recursive: true, force: true });
      if (left.length > 0) throw new LeftoverProcessesError(`passenger run ${appDir} (stopped with ${signal})`, left);
      if (instances.length > 0 && signal !== 'SIGKILL') throw new Error(`passenger run ${appDir} left its instance directory behind: ${instances.join(', ')}`);
      return result;
    })();
    return stopped;
  };

  const server: TestServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    fetch: (path, init) => fetch(new URL(path, `http://127.0.0.1:${port}`), init),
    output: () => out,
    waitForOutput,
    processes: () => processesWithToken(token),
    stop,
  };
  try {
    await waitForOutput(/serving .* on https?:/, opts.timeoutMs ?? 30000);
  } catch (e) {
    await stop('SIGKILL').catch(() => {});
    throw e;
  }
  return server;
}

export interface CommandResult { code: number | null; stdout: string; stderr: string }

/**
 * Runs another `passenger` command to completion (`detect`, `nginx-config`, ...) and
 * resolves with its exit code and output. Rejects if it outlives `timeoutMs`
 * (default 30000), or if it leaves a process behind.
 */
export function runPassenger(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  const token = newToken();
  const [program, ...leading] = passengerCommandLine();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program!, [...leading, ...args], {
      env: { ...(opts.env ?? process.env), [TOKEN_VARIABLE]: token }, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30000);
    child.on('exit', async (code, signal) => {
      clearTimeout(timer);
      const left = await reapLeftovers(token, 2000);
      if (signal === 'SIGKILL') reject(new Error(`passenger ${args.join(' ')} did not finish within ${opts.timeoutMs ?? 30000} ms:\n${stdout}${stderr}`));
      else if (left.length > 0) reject(new LeftoverProcessesError(`passenger ${args.join(' ')}`, left));
      else resolvePromise({ code, stdout, stderr });
    });
  });
}
