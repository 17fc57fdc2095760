// Admin API authentication: `Authorization: Bearer <password>`, with one of
// the two passwords in the instance directory. The read-only one may look;
// only the full-access one may act.
import { timingSafeEqual } from 'node:crypto';
import type { AdminPasswords } from '../instance/instance-dir.ts';

export type AdminAccess = 'full' | 'read-only' | 'none';

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function accessFor(authorization: string | undefined, passwords: AdminPasswords): AdminAccess {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return 'none';
  // Both compared, always, so the timing does not tell which one matched.
  const full = same(m[1]!, passwords.full);
  const readOnly = same(m[1]!, passwords.readOnly);
  return full ? 'full' : readOnly ? 'read-only' : 'none';
}
