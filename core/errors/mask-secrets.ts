// Error reports are shown in browsers and written to logs, so secret-looking
// environment values never appear in them.

const SECRET_NAME = /(_KEY|_SECRET|_TOKEN|_PASSWORD|_PASS|_PASSWD|_CREDENTIALS?|_PRIVATE)$|^(DATABASE_URL|REDIS_URL|MONGO_URL|MONGODB_URI|AMQP_URL|SECRET_KEY_BASE|PASSWORD|SECRET|TOKEN|API_KEY|AWS_SECRET_ACCESS_KEY)$/i;

/** A URL's password (`scheme://user:password@host`), whatever variable holds it. */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s@/]+)(@)/gi;

export const MASK = '••••••';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Values of variables that look secret are replaced, keeping a hint of their length. */
export function maskEnvironment(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    out[k] = isSecretName(k) ? `${MASK} (masked, ${v.length} characters)` : v.replace(URL_PASSWORD, `$1${MASK}$3`);
  }
  return out;
}

export function isMasked(value: string): boolean {
  return value.startsWith(MASK);
}
