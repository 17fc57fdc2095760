// The group front web servers' workers run as (Debian: www-data), which must
// be able to connect to the SCGI request socket when we run as root.
import { lookupGroupId } from '../spawn/user-switch.ts';

const CANDIDATES = ['www-data', 'nginx', 'http'];

export function webServerGroupId(): number | undefined {
  for (const name of CANDIDATES) {
    const gid = lookupGroupId(name);
    if (gid !== undefined) return gid;
  }
  return undefined;
}
