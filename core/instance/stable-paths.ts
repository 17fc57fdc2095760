// The paths a deployment keeps across restarts of the server: the SCGI socket
// nginx connects to (scgi_socket) and the secret its configuration carries
// (scgi_secret_file). Both live outside the instance directory, so they are
// checked before use: a directory another user may write to would let them
// put their own socket where nginx sends requests, and a secret others can
// read lets them choose apps and options over SCGI.
import { lstatSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { dirname, isAbsolute } from 'node:path';
import { PassengerError } from '../errors/passenger-error.ts';

const myUid = (): number => process.geteuid?.() ?? process.getuid?.() ?? 0;

function octal(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/** The socket's parent directory must be owned by root or us, and not writable by group or others. */
export function checkSocketDirectory(socketPath: string, key = 'scgi_socket'): void {
  if (!isAbsolute(socketPath)) {
    throw new PassengerError('PSG_ERR_CONFIG_TYPE', `${key}: must be an absolute path, got "${socketPath}"`, { key });
  }
  const dir = dirname(socketPath);
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: the directory ${dir} of ${socketPath} cannot be used (${(e as NodeJS.ErrnoException).code ?? 'error'}); create it, owned by root or uid ${myUid()}, mode 0755`, { key, path: dir });
  }
  if (!st.isDirectory()) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: ${dir} is not a directory`, { key, path: dir });
  }
  if (st.uid !== 0 && st.uid !== myUid()) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: the directory ${dir} is owned by uid ${st.uid}, who could replace the socket; it must be owned by root or by the server's user (uid ${myUid()})`, { key, path: dir });
  }
  if ((st.mode & 0o022) !== 0) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: the directory ${dir} is writable by ${st.mode & 0o002 ? 'others' : 'its group'} (mode ${octal(st.mode)}), who could replace the socket; chmod go-w ${dir}, or choose another directory`, { key, path: dir });
  }
}

/** Fails when a live server already answers on the socket path (a stale socket file is fine: it is replaced). */
export async function checkSocketFree(socketPath: string, key = 'scgi_socket'): Promise<void> {
  let st;
  try { st = lstatSync(socketPath); } catch { return; }
  if (!st.isSocket()) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: ${socketPath} exists and is not a socket; remove it or choose another path`, { key, path: socketPath });
  }
  const live = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath);
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
  if (live) {
    throw new PassengerError('PSG_ERR_SOCKET_IN_USE', `${key}: another server is listening on ${socketPath}; stop it first, or choose another path`, { key, path: socketPath });
  }
}

/**
 * The SCGI secret kept in `path`: read when the file exists (it must be ours
 * and private), made with a new random secret (mode 0600) when it does not.
 */
export function loadOrCreateSecret(path: string, key = 'scgi_secret_file'): string {
  if (!isAbsolute(path)) {
    throw new PassengerError('PSG_ERR_CONFIG_TYPE', `${key}: must be an absolute path, got "${path}"`, { key });
  }
  try {
    writeFileSync(path, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') {
      throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: cannot create ${path} (${code ?? 'error'})`, { key, path });
    }
  }
  const st = lstatSync(path);
  if (!st.isFile()) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: ${path} is not a regular file (a symlink or something else); it must be a file of its own`, { key, path });
  }
  if (st.uid !== myUid()) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: ${path} is owned by uid ${st.uid}, not by the server's user (uid ${myUid()}); whoever owns it can change the secret`, { key, path });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: ${path} is readable or writable by others (mode ${octal(st.mode)}); chmod 600 ${path}`, { key, path });
  }
  const secret = readFileSync(path, 'utf8').trim();
  if (!/^[A-Za-z0-9_-]{16,}$/.test(secret)) {
    throw new PassengerError('PSG_ERR_CONFIG_UNSAFE_PATH', `${key}: ${path} must hold one line of at least 16 letters, digits, "-" or "_" (delete it to have a new secret made)`, { key, path });
  }
  return secret;
}
