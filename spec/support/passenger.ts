// Runs the real `passenger` CLI from source (node --import tsx), the way a
// user would, on a loopback port from get-port, with a private instance
// registry so a spec can check that nothing is left behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import getPort from 'get-port';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const cliEntry = join(repoRoot, 'core/cli/main.ts');
/** tsx as a file URL, so commands also run from directories outside the repository (a bare "tsx" resolves from the working directory). */
const tsx = import.meta.resolve('tsx');

export function fixtureApp(name: string): string {
  return join(repoRoot, 'spec/fixtures/apps', name);
}

export interface RunningPassenger {
  child: ChildProcess;
  port: number;
  url: string;
  registryDir: string;
  /** Everything printed so far (stdout and stderr). */
  output(): string;
  /** What was printed on stdout alone. */
  stdout(): string;
  /** Waits until the output matches. */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM (or another signal) to the CLI and wait for it to exit; resolves with its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Instance directories in the private registry (not their sibling socket directories for other users). */
  instanceDirs(): string[];
}

export interface StartOptions {
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** Resolve once the CLI exits instead of waiting for "serving" (for start-up failures). */
  expectExit?: boolean;
  /** Resolve at once, without waiting for anything (to signal the server while it starts up). */
  noWait?: boolean;
  /** The CLI's working directory (default: the spec runner's). */
  cwd?: string;
  /** A command that runs the CLI (it must exec it, keeping the PID), e.g. ['ip', 'netns', 'exec', NAME] to run it in a network namespace. */
  prefix?: string[];
  /** Listen here instead of on a free loopback port (inside a namespace of one's own, any port is free). */
  address?: string;
  port?: number;
  /** The CLI's entry file (default: this repository's core/cli/main.ts), e.g. that of an installed copy. */
  entry?: string;
  /** Lead a process group of its own (signal it with process.kill(-child.pid)), as under supervisord or tini -g. */
  detached?: boolean;
}

/** Runs a CLI command to completion; resolves with its exit code and output. */
export function passengerCommand(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30000, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, cliEntry, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`passenger ${args.join(' ')} timed out:\n${stdout}${stderr}`)); }, timeoutMs);
    child.on('exit', (code) => { clearTimeout(timer); resolvePromise({ code, stdout, stderr }); });
  });
}

export async function startPassenger(appDir: string, opts: StartOptions = {}): Promise<RunningPassenger> {
  const port = opts.port ?? await getPort({ host: '127.0.0.1' });
  const address = opts.address ?? '127.0.0.1';
  const registryDir = mkdtempSync(join(tmpdir(), 'psg-registry-'));
  chmodSync(registryDir, 0o711); // like /tmp, apps running as other users can pass through to their own socket directory
  // From another working directory, tsx must be named by its path.
  const tsx = opts.cwd !== undefined ? pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href : 'tsx';
  const argv = [process.execPath, '--import', tsx, opts.entry ?? cliEntry, 'run', appDir, '--port', String(port), ...(opts.address ? ['--address', opts.address] : []),
    '--instance-registry-dir', registryDir, ...(opts.args ?? [])];
  const [command, ...commandArgs] = [...(opts.prefix ?? []), ...argv] as [string, ...string[]];
  const child = spawn(command, commandArgs, {
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    ...(opts.detached ? { detached: true } : {}),
  });
  let out = '';
  let stdoutText = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => { out += d.toString(); for (const l of listeners) l(); };
  child.stdout!.on('data', (d: Buffer) => { stdoutText += d.toString(); });
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => { for (const l of listeners) l(); r(code); }));
  const waitForOutput = (re: RegExp, timeoutMs = opts.timeoutMs ?? 20000) => new Promise<string>((res, rej) => {
    const check = () => {
      const m = re.exec(out);
      if (m) { cleanup(); res(m[0]); return true; }
      if (child.exitCode !== null || child.signalCode !== null) { cleanup(); rej(new Error(`passenger exited before printing ${re}:\n${out}`)); return true; }
      return false;
    };
    const timer = setTimeout(() => { cleanup(); rej(new Error(`timed out waiting for ${re}; output:\n${out}`)); }, timeoutMs);
    const cleanup = () => { clearTimeout(timer); listeners.delete(listener); };
    const listener = () => { check(); };
    if (!check()) listeners.add(listener);
  });
  const running: RunningPassenger = {
    child, port, url: `http://${address}:${port}`, registryDir,
    output: () => out,
    stdout: () => stdoutText,
    waitForOutput,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return child.exitCode;
    },
    instanceDirs: () => readdirSync(registryDir).filter((n) => /^passenger\.[^.]+$/.test(n)),
  };
  if (opts.noWait) return running;
  if (opts.expectExit) {
    await exited;
    return running;
  }
  try {
    await waitForOutput(/serving .* on https?:/);
  } catch (e) {
    await running.stop('SIGKILL');
    throw e;
  }
  return running;
}

/** Stops a running server and removes its private registry, asserting that the instance directory was removed. */
export async function stopAndClean(p: RunningPassenger | undefined): Promise<void> {
  if (!p) return;
  await p.stop();
  const left = readdirSync(p.registryDir).filter((n) => n.startsWith('passenger.'));
  rmSync(p.registryDir, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`instance directories left behind: ${left.join(', ')}`);
}
