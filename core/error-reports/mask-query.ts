// Request targets are written to the access log and to the server's log
// lines about requests: the values of query parameters whose names say
// secret (token, api_key, password…, secret-names.ts) are masked there.
import { isSecretName } from './secret-names.ts';
import { MASK } from './mask-format.ts';

// Parameter names seen lately and whether they are secret: isSecretName splits words with regexes.
const secretParams = new Map<string, boolean>();

function isSecretParam(rawName: string): boolean {
  let secret = secretParams.get(rawName);
  if (secret === undefined) {
    let name = rawName.replace(/\+/g, ' ');
    try { name = decodeURIComponent(name); } catch { /* logged as sent */ }
    secret = isSecretName(name);
    if (secretParams.size > 1000) secretParams.clear();
    secretParams.set(rawName, secret);
  }
  return secret;
}

/** The request target with the values of secret-named query parameters masked. */
export function maskQuery(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url.slice(q + 1).split('&');
  let changed = false;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const eq = p.indexOf('=');
    if (eq <= 0 || eq === p.length - 1 || !isSecretParam(p.slice(0, eq))) continue;
    params[i] = `${p.slice(0, eq + 1)}${MASK}`;
    changed = true;
  }
  return changed ? `${url.slice(0, q + 1)}${params.join('&')}` : url;
}
