// The LoaderSpec of an app that speaks no loader protocol and just listens on
// $PORT (a Go binary, uvicorn, a Deno app). The port is left to the core: it
// picks a free one at each spawn (never while `passenger detect` only
// describes), sets PORT, and replaces PORT_TOKEN in the arguments and in the
// environment values. Such a command always runs under the group keeper
// (group-keeper.ts): it and everything it forks die with the server, however
// the server dies.
import type { ProtocolName } from './socket-address.ts';
import type { LoaderSpec } from './spawn-command.ts';

/** Stands for the port in a port loader's arguments and environment values: `['--port', PORT_TOKEN]`. */
export const PORT_TOKEN = '{port}';

export interface PortLoaderOptions {
  /** The program (a path, or a command found on PATH). */
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** What it speaks on the port: plain HTTP/1.1 (`http_session`, the default) or a plugin's protocol. */
  protocol?: ProtocolName;
  /** Requests one process takes at once (0: no limit, the default, for servers that multiplex). */
  concurrency?: number;
  /** Why this command, for `passenger detect` (an interpreter choice, say). */
  note?: string;
}

export function portLoader(opts: PortLoaderOptions): LoaderSpec {
  return {
    command: opts.command,
    args: opts.args ?? [],
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.note ? { note: opts.note } : {}),
    readiness: { kind: 'port', host: '127.0.0.1', port: 0, protocol: opts.protocol ?? 'http_session', concurrency: opts.concurrency ?? 0 },
  };
}

/** Gives a spawn whose readiness port is 0 its port: in readiness, PORT, and every PORT_TOKEN. */
export function assignPort<T extends { args: string[]; env: Record<string, string> }>(command: T, port: number): T {
  const fill = (s: string) => s.replaceAll(PORT_TOKEN, String(port));
  command.args = command.args.map(fill);
  for (const [k, v] of Object.entries(command.env)) command.env[k] = fill(v);
  command.env.PORT = String(port);
  return command;
}
