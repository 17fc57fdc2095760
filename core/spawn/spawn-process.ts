// Runs one SpawnCommand and waits until the process is ready: by the `!>`
// handshake (docs/protocols.md section 1) or, for generic apps, until its port
// accepts connections. Any failure kills the process group and throws a
// SpawnFailure carrying what the app printed; it never hangs past start_timeout.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../log/logger.ts';
import { HandshakeParser, REPLY } from './handshake-parser.ts';
import { eachLine, OutputTail } from './output-lines.ts';
import type { SpawnCommand } from './spawn-command.ts';
import type { ProcessSocket } from './socket-address.ts';
import { SpawnFailure, type SpawnFailureDetails } from './spawn-failure.ts';
import { Journey } from './journey.ts';
import { isPassengerError } from '../errors/passenger-error.ts';
import { killProcessGroup } from './kill.ts';
import { secretMaskerFor } from './command-secrets.ts';
import { underKeeper } from './group-keeper.ts';

export interface ExitStatus { code: number | null; signal: string | null }

/**
 * What the pool needs to stop a process: its control channel and a signal.
 * A ChildProcess is one; a process forked by a preloader gets an adapter.
 */
export interface ProcessHandle {
  readonly stdin: { end(chunk?: string): unknown } | null;
  kill(signal?: NodeJS.Signals): boolean;
}

/** The streams a handshake runs over: a loader's pipes, or a forked child's control connection. */
export interface HandshakeStreams {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

export interface SpawnedProcess {
  pid: number;
  child: ProcessHandle;
  sockets: ProcessSocket[];
  command: SpawnCommand;
  output: OutputTail;
  /** Resolves when the process has exited. */
  exited: Promise<ExitStatus>;
  spawnDurationMs: number;
  /** The IPC channel client connections are handed over (connection_handoff); only when the command asked for one. */
  channel?: ConnectionChannel;
}

/** The part of a ChildProcess's IPC channel the handoff uses. */
export type ConnectionChannel = Pick<ChildProcess, 'send' | 'connected' | 'on'>;

// A loader hands over through the handshake; a generic app is ready when it listens on its port.
const HANDSHAKE_JOURNEY = ['spawn', 'handshake', 'load_app', 'ready'];
const PORT_JOURNEY = ['spawn', 'listen', 'ready'];

export async function spawnProcess(cmd: SpawnCommand, log: Logger, appName: string): Promise<SpawnedProcess> {
  const started = performance.now();
  const journey = new Journey(cmd.readiness.kind === 'handshake' ? HANDSHAKE_JOURNEY : PORT_JOURNEY);
  const output = new OutputTail();
  let child: ChildProcess;
  // A command without a loader gets a keeper that ends its group when the core goes (group-keeper.ts).
  const program = cmd.readiness.kind === 'port' ? underKeeper(cmd.command, cmd.args) : { command: cmd.command, args: cmd.args };
  try {
    child = spawn(program.command, program.args, {
      // fd 3 is an IPC channel for handed-off connections when asked for (the loader must be a Node program).
      cwd: cmd.cwd, env: cmd.env, stdio: cmd.connectionChannel ? ['pipe', 'pipe', 'pipe', 'ipc'] : 'pipe',
      // Its own process group, so stopping it stops everything it started.
      detached: true,
      ...(cmd.uid !== undefined ? { uid: cmd.uid, gid: cmd.gid } : {}),
    });
  } catch (e) {
    throw new SpawnFailure('PSG_ERR_SPAWN_FAILED', failure(`could not start ${cmd.command}: ${(e as Error).message}`, 'os', journey.fail(), output, cmd));
  }
  // A failed spawn (ENOENT, EACCES) or an undeliverable signal emits 'error'; 'close' still follows,
  // and the stdin pipe may error when the child dies early. None of these may end the core.
  child.on('error', () => {});
  child.stdin?.on('error', () => {});
  // Nothing but counts may come back over the channel: a handle the app sends is closed at once, never used.
  if (cmd.connectionChannel) child.on('message', (_m, handle) => closeQuietly(handle));
  // 'close' comes once it has exited and its output has ended; a failed spawn's code is a negative errno, not a status.
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('close', (code, signal) => resolve(child.pid === undefined ? { code: null, signal: null } : { code, signal }));
  });
  const pid = child.pid;
  if (pid === undefined) {
    const status = await exited;
    throw new SpawnFailure('PSG_ERR_SPAWN_FAILED', { ...failure(`could not start ${cmd.command} (${cmd.cwd}): it is missing or not executable`, 'os', journey.fail(), output, cmd), exit: status });
  }
  const appLog = log.child(`[${appName} ${pid}]`);
  journey.reach('handshake');
  try {
    const sockets = cmd.readiness.kind === 'handshake'
      ? await handshake(child, cmd, journey, output, appLog, exited)
      : await waitForPort(child, cmd, journey, output, appLog, exited);
    journey.finish();
    return { pid, child, sockets, command: cmd, output, exited, spawnDurationMs: Math.round(performance.now() - started), ...(cmd.connectionChannel ? { channel: child } : {}) };
  } catch (e) {
    killProcessGroup(pid, 'SIGKILL');
    await exited;
    if (e instanceof SpawnFailure) throw e;
    const code = isPassengerError(e) ? e.code : 'PSG_ERR_SPAWN_FAILED';
    throw new SpawnFailure(code, { ...failure((e as Error).message, code === 'PSG_ERR_SPAWN_PROTOCOL' ? 'internal' : 'app', journey.fail(), output, cmd) }, { cause: e });
  }
}

function closeQuietly(handle: unknown): void {
  const h = handle as { destroy?: () => void; close?: () => void } | undefined;
  try { if (h?.destroy) h.destroy(); else h?.close?.(); } catch { /* already closed */ }
}

/**
 * Each line the app prints goes to the report's tail as it is (the report is masked
 * as a whole) and to the log with its secrets masked: the log is read by more people
 * than the app's environment is.
 */
function outputForwarder(cmd: SpawnCommand, output: OutputTail, appLog: Logger): (line: string) => void {
  const mask = secretMaskerFor(cmd).lineByLine();
  return (line) => { output.push(line); appLog.info(mask(line)); };
}

function failure(summary: string, category: SpawnFailureDetails['category'], journey: SpawnFailureDetails['journey'], output: OutputTail, command: SpawnCommand): SpawnFailureDetails {
  return { summary, category, journey, output: output.lines, detail: '', properties: {}, command };
}

function exitText(s: ExitStatus): string {
  if (s.signal) return `was killed by ${s.signal}`;
  // A process forked by a preloader is not our child: its status is unknown.
  return s.code === null ? 'exited' : `exited with code ${s.code}`;
}

/** Races `work` against the start timeout and an early exit; settles with whichever comes first. */
function guarded<T>(cmd: SpawnCommand, exited: Promise<ExitStatus>, onExit: (s: ExitStatus) => Error,
  onTimeout: () => Error, work: (done: (v: T) => void, fail: (e: unknown) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => { if (!settled) { settled = true; clearTimeout(timer); f(); } };
    const timer = setTimeout(() => settle(() => reject(onTimeout())), cmd.startTimeoutMs);
    timer.unref();
    exited.then((s) => settle(() => reject(onExit(s))));
    try {
      work((v) => settle(() => resolve(v)), (e) => settle(() => reject(e)));
    } catch (e) {
      settle(() => reject(e));
    }
  });
}

/** Runs the `!>` handshake over `child`'s streams until Ready; exported for forked children. */
export function handshake(child: HandshakeStreams, cmd: SpawnCommand, journey: Journey, output: OutputTail, appLog: Logger, exited: Promise<ExitStatus>): Promise<ProcessSocket[]> {
  const parser = new HandshakeParser();
  const errorProps: Record<string, string> = {};
  const errorDetail: string[] = [];
  let reportedError = false;
  const forward = outputForwarder(cmd, output, appLog);
  if (child.stderr) eachLine(child.stderr, forward);
  const seconds = cmd.startTimeoutMs / 1000;
  return guarded<ProcessSocket[]>(cmd, exited,
    (status) => {
      journey.fail();
      if (reportedError) {
        const summary = errorProps.summary ?? 'the app failed to load';
        return new SpawnFailure('PSG_ERR_SPAWN_FAILED', {
          summary, category: 'app', journey: journey.steps(), output: output.lines, command: cmd,
          detail: errorDetail.join('\n'), properties: errorProps, exit: status,
          ...(errorProps.error_class ? { errorClass: errorProps.error_class } : {}),
        });
      }
      const stage = parser.state === 'greeting' ? 'before the loader handshake' : 'before it was ready';
      return new SpawnFailure('PSG_ERR_SPAWN_FAILED', {
        ...failure(`the app ${exitText(status)} ${stage}`, 'app', journey.steps(), output, cmd), exit: status,
      });
    },
    () => {
      journey.fail();
      return new SpawnFailure('PSG_ERR_SPAWN_TIMEOUT', failure(
        parser.state === 'greeting'
          ? `the loader did not start the handshake within start_timeout (${seconds} s): it printed no "!> I have control 1.0"`
          : `the app did not become ready within start_timeout (${seconds} s)`, 'timeout', journey.steps(), output, cmd));
    },
    (done, fail) => {
      eachLine(child.stdout!, (line) => {
        let ev;
        try { ev = parser.feed(line); } catch (e) { fail(e); return; }
        switch (ev.type) {
          case 'output': forward(line); break;
          case 'greeted':
            journey.reach('load_app');
            child.stdin!.write(REPLY + '\n' + Object.entries(cmd.handshake).map(([k, v]) => `${k}: ${v}\n`).join('') + '\n');
            break;
          case 'error': reportedError = true; Object.assign(errorProps, ev.properties); break;
          case 'errorDetail': errorDetail.push(line); output.push(line); break;
          case 'ready': journey.reach('ready'); done(ev.sockets); break;
          case 'control': break;
        }
      });
    });
}

function waitForPort(child: ChildProcess, cmd: SpawnCommand, journey: Journey, output: OutputTail, appLog: Logger, exited: Promise<ExitStatus>): Promise<ProcessSocket[]> {
  if (cmd.readiness.kind !== 'port') throw new Error('unreachable');
  const { host, port, protocol, concurrency } = cmd.readiness;
  const forward = outputForwarder(cmd, output, appLog);
  eachLine(child.stdout!, forward);
  eachLine(child.stderr!, forward);
  journey.reach('listen');
  let stop = false;
  return guarded<ProcessSocket[]>(cmd, exited,
    (status) => {
      stop = true;
      return new SpawnFailure('PSG_ERR_SPAWN_FAILED', { ...failure(`the app ${exitText(status)} before it listened on port ${port} ($PORT)`, 'app', journey.fail(), output, cmd), exit: status, properties: { port: String(port) } });
    },
    () => {
      stop = true;
      return new SpawnFailure('PSG_ERR_SPAWN_TIMEOUT', { ...failure(`the app did not listen on port ${port} ($PORT) within start_timeout (${cmd.startTimeoutMs / 1000} s)`, 'timeout', journey.fail(), output, cmd), properties: { port: String(port) } });
    },
    (done) => {
      let delay = 10;
      const attempt = () => {
        if (stop) return;
        const sock = net.connect({ host, port });
        sock.once('connect', () => {
          sock.destroy();
          journey.reach('ready');
          done([{ name: 'main', address: `tcp://${host}:${port}`, protocol, concurrency }]);
        });
        sock.once('error', () => {
          sock.destroy();
          delay = Math.min(delay * 1.5, 100);
          setTimeout(attempt, delay).unref();
        });
      };
      attempt();
    });
}
