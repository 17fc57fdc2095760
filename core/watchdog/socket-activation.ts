// Socket activation (systemd's LISTEN_FDS protocol): the service manager
// binds the HTTP port and passes it as fd 3, so the port stays open (new
// connections wait in its backlog) while the server itself restarts. Only
// the first passed socket is used: it is the HTTP port.
import { fstatSync } from 'node:fs';
import { PassengerError } from '../errors/passenger-error.ts';

/** sd_listen_fds(3): passed sockets start at this descriptor. */
const FIRST_FD = 3;

export interface ActivatedSocket {
  fd: number;
  /** How many sockets were passed (only the first is used). */
  count: number;
}

/**
 * The listening socket passed by the service manager, if it was meant for
 * this process. The LISTEN_* variables are removed either way, so the core
 * and the apps never take them as theirs.
 */
export function takeActivatedSocket(env: NodeJS.ProcessEnv, pid = process.pid): ActivatedSocket | undefined {
  const forPid = env.LISTEN_PID;
  const count = Number(env.LISTEN_FDS);
  delete env.LISTEN_PID;
  delete env.LISTEN_FDS;
  delete env.LISTEN_FDNAMES;
  if (forPid !== String(pid) || !Number.isInteger(count) || count < 1) return undefined;
  let isSocket = false;
  try { isSocket = fstatSync(FIRST_FD).isSocket(); } catch { /* not open */ }
  if (!isSocket) {
    throw new PassengerError('PSG_ERR_USAGE', `LISTEN_FDS=${count} was set for this process, but file descriptor ${FIRST_FD} is not a socket`);
  }
  return { fd: FIRST_FD, count };
}
