// Sets the backlog of a socket that is already listening. The SCGI sockets
// come from the watchdog over IPC, and node listens on what it receives with
// its default of 511; for a Unix socket, listening on it again through
// net.Server is refused (node opens the descriptor anew: EEXIST), so the
// handle is told directly. listen(2) on a listening socket only changes its
// backlog, and libuv keeps the same connection callback. Behind nginx this
// backlog is what a burst of new SCGI connections queues in: once it is
// full, nginx's connect fails at once (EAGAIN) and its client gets 502.
import type net from 'node:net';

interface ListeningHandle { listen(backlog: number): number }

/** Whether the backlog was set (false when this node does not expose the handle's listen). */
export function setListenBacklog(server: net.Server, backlog: number): boolean {
  const handle = (server as unknown as { _handle?: Partial<ListeningHandle> | null })._handle;
  if (typeof handle?.listen !== 'function') return false;
  return handle.listen(backlog) === 0;
}
