// One process forked by a preloader (docs/protocols.md section "Preloader"):
// connect to the preloader's socket, send the spawn command, learn the
// child's pid, then run the ordinary loader handshake over the same
// connection, which the child keeps as its stdin and stdout for life.
import net from 'node:net';
import { PassThrough } from 'node:stream';
import type { Logger } from '../log/logger.ts';
import type { SpawnCommand } from './spawn-command.ts';
import { handshake, type ExitStatus, type ProcessHandle, type SpawnedProcess } from './spawn-process.ts';
import { OutputTail } from './output-lines.ts';
import { Journey } from './journey.ts';
import { SpawnFailure } from './spawn-failure.ts';
import { isAlive, killProcessGroup } from './kill.ts';
import { isPassengerError } from '../errors/passenger-error.ts';
import { readFirstLine } from './preloader-line.ts';

const JOURNEY = ['connect_preloader', 'fork', 'handshake', 'load_app', 'ready'];
const PID_LINE = /^!> pid: (\d+)$/;
/** How often a forked child is checked for life while its connection is open. */
const POLL_MS = 1000;

export interface ForkRequest {
  /** The preloader's command socket. */
  socketPath: string;
  /** The password the preloader expects on every spawn command. */
  password: string;
  /** The child's own command: its handshake keys (connect_password...) and start timeout. */
  command: SpawnCommand;
  log: Logger;
  appName: string;
}

export async function forkFromPreloader(req: ForkRequest): Promise<SpawnedProcess> {
  const started = performance.now();
  const journey = new Journey(JOURNEY);
  const output = new OutputTail();
  const cmd = req.command;
  const fail = (summary: string, category: 'io' | 'app' | 'timeout' | 'internal') => new SpawnFailure(
    category === 'timeout' ? 'PSG_ERR_SPAWN_TIMEOUT' : 'PSG_ERR_SPAWN_FAILED',
    { summary, category, journey: journey.fail(), output: output.lines, detail: '', properties: {}, command: cmd });

  const conn = await connect(req.socketPath, cmd.startTimeoutMs).catch((e: Error) => {
    throw fail(`could not reach the preloader at ${req.socketPath}: ${e.message}`, 'io');
  });
  journey.reach('fork');
  conn.write(`spawn ${req.password}\n`);
  const first = await readFirstLine(conn, cmd.startTimeoutMs);
  const m = first.line === undefined ? null : PID_LINE.exec(first.line);
  if (!m) {
    conn.destroy();
    const why = first.timedOut ? 'did not answer the spawn command in time'
      : first.line === undefined ? 'closed the connection without forking' : `answered "${first.line}"`;
    throw fail(`the preloader ${why}`, first.timedOut ? 'timeout' : 'internal');
  }
  const pid = Number(m[1]);
  journey.reach('handshake');
  const exited = watchExit(pid, conn);
  const appLog = req.log.child(`[${req.appName} ${pid}]`);
  try {
    // Lines are read from a pipe, not the socket: a socket error (EPIPE when the
    // child died) must reach only our listener, never an unguarded line reader.
    const lines = conn.pipe(new PassThrough());
    const sockets = await handshake({ stdin: conn, stdout: lines, stderr: null }, cmd, journey, output, appLog, exited);
    journey.finish();
    return { pid, child: handleFor(pid, conn), sockets, command: cmd, output, exited, spawnDurationMs: Math.round(performance.now() - started) };
  } catch (e) {
    killProcessGroup(pid, 'SIGKILL');
    conn.destroy();
    await exited;
    if (e instanceof SpawnFailure) throw e;
    const code = isPassengerError(e) ? e.code : 'PSG_ERR_SPAWN_FAILED';
    throw new SpawnFailure(code, {
      summary: (e as Error).message, category: code === 'PSG_ERR_SPAWN_PROTOCOL' ? 'internal' : 'app',
      journey: journey.fail(), output: output.lines, detail: '', properties: {}, command: cmd,
    }, { cause: e });
  }
}

function connect(path: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ path });
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('connect timed out')); }, timeoutMs);
    sock.once('connect', () => { clearTimeout(timer); sock.off('error', reject); resolve(sock); });
    sock.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

/**
 * The child is the preloader's, not ours, so no waitpid: it is gone once its
 * pid is (the preloader reaps it). The connection closing is the prompt
 * signal; the poll covers a descendant that kept the connection open.
 */
function watchExit(pid: number, conn: net.Socket): Promise<ExitStatus> {
  conn.on('error', () => {});
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let closedAt = 0;
    const check = () => {
      if (!isAlive(pid)) { clearTimeout(timer); conn.destroy(); resolve({ code: null, signal: null }); return; }
      // Briskly for a moment after the close (the exit follows it), then back to the slow poll.
      timer = setTimeout(check, closedAt && performance.now() - closedAt < 2000 ? 20 : POLL_MS);
      timer.unref();
    };
    conn.once('close', () => { closedAt = performance.now(); clearTimeout(timer); check(); });
    check();
  });
}

/** The pool's view of a forked child: the shutdown byte goes over the connection, signals by pid. */
function handleFor(pid: number, conn: net.Socket): ProcessHandle {
  return {
    stdin: { end: (chunk?: string) => (!conn.writable ? undefined : chunk === undefined ? conn.end() : conn.end(chunk)) },
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      try { process.kill(pid, signal); return true; } catch { return false; }
    },
  };
}
