// Directories root makes for itself or hands to another user. Made with a
// fresh random name (mkdtemp: the call fails rather than reuse an existing
// path, and never follows a link planted under the expected name), then
// opened without following links and changed through that descriptor, never
// by path: a user who can write the parent cannot make root chown or chmod
// anything else.
import { closeSync, constants, fchmodSync, fchownSync, fstatSync, mkdtempSync, openSync } from 'node:fs';

/** A new directory named `prefix` + six random characters, with this mode and (when given) owner. */
export function makePrivateDir(prefix: string, mode: number, owner?: { uid: number; gid: number }): string {
  const path = mkdtempSync(prefix);
  const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    // Someone who can write the parent may have renamed ours away and put another in its place.
    const st = fstatSync(fd);
    if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? st.uid)) throw new Error(`${path} was replaced while it was being created`);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
  return path;
}
