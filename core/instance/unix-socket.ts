// Listening on a Unix socket with the right permissions from the first
// instant: the umask is set around bind (bind happens synchronously inside
// listen()), so there is no window in which the socket is more open than
// meant. A stale socket file from a crashed core is replaced.
import { chownSync, rmSync } from 'node:fs';
import type net from 'node:net';

export interface UnixSocketAccess {
  /** e.g. 0o600 (owner only) or 0o660 (owner and `gid`). */
  mode: number;
  /** Group to give the socket to (needs root or membership). */
  gid?: number | undefined;
}

export function listenUnix(server: net.Server, path: string, access: UnixSocketAccess): Promise<void> {
  rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    const previous = process.umask(0o777 & ~access.mode);
    try {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        try {
          if (access.gid !== undefined) chownSync(path, -1, access.gid);
          resolve();
        } catch (e) {
          reject(e as Error);
        }
      });
    } finally {
      process.umask(previous);
    }
  });
}
