// Zero-downtime upgrade of the server itself, as nginx does it: SIGUSR2 to
// the watchdog starts a new `passenger run` (whatever version is installed
// now at the same path, with the same arguments) that inherits the TCP
// listening sockets as descriptors, so no connection is refused or reset.
// The old core passes its listeners back to the watchdog for this; the old
// watchdog starts the new one, which binds the SCGI Unix socket anew (by
// renaming over the path) and, once its core is ready, sends the old
// watchdog SIGTERM: the old instance drains and exits as on any graceful
// stop. Until then both accept on the shared sockets.
import { spawn, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import type { Logger } from '../log/logger.ts';
import type { CoreMessage } from '../instance/core-process.ts';
import type { ListenerMessage, ListenerName } from './listeners.ts';

/** Which inherited descriptor is which listener: {"http":3,...}. */
export const UPGRADE_LISTENERS_ENV = 'PASSENGER_UPGRADE_LISTENERS';
/** The old watchdog's PID, told to stop once the new instance serves. */
export const UPGRADE_FROM_ENV = 'PASSENGER_UPGRADE_FROM';

export interface UpgradeInheritance {
  fds: Partial<Record<ListenerName, number>>;
  fromPid: number;
}

/** In a new `passenger run`: what it inherits from the instance it replaces. The variables are removed, so apps never see them. */
export function takeUpgradeListeners(env: NodeJS.ProcessEnv): UpgradeInheritance | undefined {
  const text = env[UPGRADE_LISTENERS_ENV];
  const from = Number(env[UPGRADE_FROM_ENV]);
  delete env[UPGRADE_LISTENERS_ENV];
  delete env[UPGRADE_FROM_ENV];
  if (text === undefined || !Number.isInteger(from)) return undefined;
  return { fds: JSON.parse(text) as Partial<Record<ListenerName, number>>, fromPid: from };
}

/**
 * In the old watchdog: gets the TCP listeners back from the core and starts
 * the new `passenger run` with them. Connections accepted on the watchdog's
 * copies meanwhile are passed to the old core, never dropped.
 */
export function startUpgrade(core: ChildProcess, log: Logger): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const got: { name: ListenerName; server: net.Server }[] = [];
    const onMessage = (m: CoreMessage, handle: unknown) => {
      if (m?.type !== 'listener-back') return;
      if (!m.last && m.name !== undefined && handle) {
        const server = handle as net.Server & { pauseOnConnect: boolean };
        const name = m.name;
        server.pauseOnConnect = true;
        server.on('connection', (socket: net.Socket) => {
          const msg: ListenerMessage = { type: 'connection', name };
          core.send(msg, socket, (err) => { if (err) socket.destroy(); });
        });
        got.push({ name, server });
        return;
      }
      core.off('message', onMessage);
      const fds: Partial<Record<ListenerName, number>> = {};
      const stdio: ('ignore' | 'inherit' | number)[] = ['ignore', 'inherit', 'inherit'];
      for (const { name, server } of got) {
        fds[name] = stdio.length;
        stdio.push((server as unknown as { _handle: { fd: number } })._handle.fd);
      }
      let child: ChildProcess;
      try {
        child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...process.argv.slice(2)], {
          stdio,
          env: { ...process.env, [UPGRADE_LISTENERS_ENV]: JSON.stringify(fds), [UPGRADE_FROM_ENV]: String(process.pid) },
        });
      } catch (e) {
        reject(e as Error);
        return;
      } finally {
        // The new process has its own copies now (or the spawn failed): ours would only compete for connections.
        for (const { server } of got) server.close();
      }
      // The new watchdog outlives this one: it must not keep this process alive.
      child.unref();
      log.info(`upgrade: started a new passenger (pid ${child.pid}) on the same listening sockets (${got.map((g) => g.name).join(', ')}); this instance stops once it serves`);
      resolve(child);
    };
    core.on('message', onMessage);
    core.send({ type: 'send-listeners' });
  });
}
