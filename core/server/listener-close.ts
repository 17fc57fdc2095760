// Closing a listening TCP socket resets every connection the kernel already
// completed for it but the process has not accepted yet. The client (nginx,
// say) has usually sent its request on such a connection, and a POST that
// meets a reset is not retried: a 502 for a user, on every deploy. Closing
// from a timer makes that likely: connections queue up between the loop's
// last poll and the timer, more so on a busy machine.
//
// So a listener is closed right after the event loop accepted what was queued
// (setImmediate runs right after a poll phase), and, on Linux, only once the
// kernel reports its accept queue empty (/proc/net/tcp: a LISTEN row's
// rx_queue is its accept queue), checked again after each poll for at most
// MAX_WAIT_MS. What remains is the time between that check and close(): a
// load balancer that keeps sending to a stopping host (nginx without health
// checks) can still meet it, rarely; one that reads /readyz stopped sending
// during drain_delay.
import { readdirSync, readlinkSync, openSync, readSync, closeSync } from 'node:fs';
import type { Server } from 'node:net';

/** How long a close waits for a moment when nothing is queued. */
const MAX_WAIT_MS = 200;

/** Calls `close` (which must close `server` synchronously) once nothing waits in the kernel to be accepted. */
export function closeAfterAccepting(server: Server, close: () => void): Promise<void> {
  const deadline = performance.now() + MAX_WAIT_MS;
  // Only a TCP listener's queue can be read: a Unix socket's close just waits for one poll.
  const inodes = typeof server.address() === 'object' ? socketInodes() : new Set<string>();
  return new Promise((resolve) => {
    const attempt = () => {
      if (performance.now() > deadline || !((acceptQueueLength(server, inodes) ?? 0) > 0)) {
        close();
        resolve();
        return;
      }
      setImmediate(attempt);
    };
    setImmediate(attempt);
  });
}

/**
 * How many connections the kernel completed for this listening TCP socket
 * that were not accepted yet; undefined when that cannot be known (not TCP,
 * not Linux). `inodes`: this process's sockets (socketInodes()).
 */
export function acceptQueueLength(server: Server, inodes = socketInodes()): number | undefined {
  const address = server.address();
  if (address === null || typeof address !== 'object' || inodes.size === 0) return undefined;
  const hexPort = address.port.toString(16).toUpperCase().padStart(4, '0');
  return listenQueue(address.family === 'IPv6' ? '/proc/net/tcp6' : '/proc/net/tcp', hexPort, inodes);
}

/** The inodes of this process's sockets (readlink of /proc/self/fd/N is "socket:[INODE]"); empty off Linux. */
function socketInodes(): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try { fds = readdirSync('/proc/self/fd'); } catch { return inodes; }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  return inodes;
}

/**
 * The accept queue of our LISTEN row on the port, from the listening section
 * the table starts with. Reading stops there, so that the time between this
 * check and the close stays short on a host with many connections (the rest
 * of the table lists every one of them).
 */
function listenQueue(table: string, hexPort: string, inodes: Set<string>): number | undefined {
  let fd: number;
  try { fd = openSync(table, 'r'); } catch { return undefined; }
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let rest = '';
    let header = true;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return undefined;
      const lines = (rest + buf.toString('latin1', 0, n)).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (header) { header = false; continue; }
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
        const f = line.trim().split(/\s+/);
        if (f[3] !== '0A') return undefined;
        if (f[1]!.endsWith(`:${hexPort}`) && inodes.has(f[9]!)) return parseInt(f[4]!.split(':')[1]!, 16);
      }
    }
  } finally {
    closeSync(fd);
  }
}
