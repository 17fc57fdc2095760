// Which variable, option or key names hold secrets. A name is split into its
// words (FOO_BAR, foo-bar, fooBar), so KEYBOARD and TOKENIZER stay readable
// while API_KEY, apiKey, MYSQL_PWD and STRIPE_SK are masked.

/** A name with one of these words holds a secret. */
const SECRET_WORDS = new Set([
  'key', 'keys', 'apikey', 'pwd', 'pass', 'passwd', 'password', 'passwords', 'passphrase', 'secret', 'secrets',
  'token', 'tokens', 'credential', 'credentials', 'creds', 'dsn', 'auth', 'private', 'cookie', 'cookies',
  'session', 'sessions', 'jwt', 'sk', 'pk',
]);

/** Words that contain these hold a secret too: PGPASSWORD, CLIENTSECRET, PRIVATEKEY. */
const SECRET_INSIDE = /password|passwd|secret|credential|passphrase|apikey|privatekey|accesskey|authtoken/;

/** Connection URLs that carry a password more often than not: masked whole. */
const SECRET_URL_NAMES = new Set(['DATABASE_URL', 'REDIS_URL', 'MONGO_URL', 'MONGODB_URI', 'MONGO_URI', 'AMQP_URL', 'RABBITMQ_URL', 'CLOUDAMQP_URL', 'ELASTICSEARCH_URL']);

/** The shell's working directories are not MYSQL_PWD. */
const NOT_SECRET = new Set(['PWD', 'OLDPWD']);

export function nameWords(name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w !== '');
}

export function isSecretName(name: string): boolean {
  if (NOT_SECRET.has(name)) return false;
  if (SECRET_URL_NAMES.has(name.toUpperCase())) return true;
  return nameWords(name).some((w) => SECRET_WORDS.has(w) || SECRET_INSIDE.test(w));
}
