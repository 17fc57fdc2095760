import { expect } from 'chai';
import { isMasked, isSecretName, maskEnvironment, SecretMasker } from '../../core/error-reports/mask-secrets.ts';
import { maskReport } from '../../core/error-reports/mask-report.ts';
import { renderReportHtml } from '../../core/error-reports/render-html.ts';
import { renderReportText } from '../../core/error-reports/render-text.ts';
import { sampleReport } from './sample-report.ts';

describe('maskEnvironment', () => {
  const masked = maskEnvironment({
    STRIPE_API_KEY: 'sk_live_123', GITHUB_TOKEN: 'ghp_abc', APP_SECRET: 's3', DB_PASSWORD: 'hunter2',
    DATABASE_URL: 'postgres://u:pw@db/app', SECRET_KEY_BASE: 'x'.repeat(64), aws_secret_access_key: 'lower',
    CACHE_URI: 'redis://cache:hunter3@10.0.0.2:6379/0', PATH: '/usr/bin:/bin', KEYBOARD: 'us', TOKENIZER: 'bpe',
  });

  for (const name of ['STRIPE_API_KEY', 'GITHUB_TOKEN', 'APP_SECRET', 'DB_PASSWORD', 'DATABASE_URL', 'SECRET_KEY_BASE', 'aws_secret_access_key']) {
    it(`masks ${name}, keeping only the length`, () => {
      expect(isMasked(masked[name]!)).to.equal(true);
      expect(masked[name]).to.match(/^•+ \(masked, \d+ characters\)$/);
    });
  }

  it('masks the password of a URL in any variable, keeping the rest', () => {
    expect(masked.CACHE_URI).to.equal('redis://cache:••••••@10.0.0.2:6379/0');
  });

  it('leaves names that only contain a secret-looking word alone', () => {
    expect(masked).to.include({ PATH: '/usr/bin:/bin', KEYBOARD: 'us', TOKENIZER: 'bpe' });
  });
});

describe('isSecretName', () => {
  const secret = [
    'PGPASSWORD', 'MYSQL_PWD', 'SENTRY_DSN', 'STRIPE_SK', 'STRIPE_PK', 'API_KEY', 'apiKey', 'accessToken', 'CLIENT_SECRET', 'GOOGLE_APPLICATION_CREDENTIALS',
    'BASIC_AUTH', 'SSH_PRIVATE_KEY', 'SESSION_COOKIE_NAME', 'RAILS_SESSION', 'db-password', 'REDIS_URL', 'MONGODB_URI', 'JWT', 'passwd', 'OAUTH_CLIENTSECRET',
  ];
  const plain = ['PWD', 'OLDPWD', 'PATH', 'HOME', 'KEYBOARD', 'TOKENIZER', 'XAUTHORITY', 'AUTHOR', 'MONKEY', 'NODE_ENV', 'CACHE_URL', 'PASSENGER_APP_ENV', 'LANG'];
  for (const n of secret) it(`${n} is secret`, () => expect(isSecretName(n)).to.equal(true));
  for (const n of plain) it(`${n} is not`, () => expect(isSecretName(n)).to.equal(false));
});

describe('SecretMasker.text', () => {
  const masker = new SecretMasker(
    [{ PGPASSWORD: 'Pg-Pass-4f1c9a7e', SESSION_STORE: 'development', SENTRY_DSN: 'https://5f0c1d2e3a4b4c5d8e9f@o1.ingest.sentry.io/2', PATH: '/usr/bin' }],
    ['c0nnect-pa55word'],
  );
  const cases: [string, string, string][] = [
    ['a URL password', 'cannot reach postgres://app:s3cr3t@db:5432/x', 'cannot reach postgres://app:••••••@db:5432/x'],
    ['a URL password holding an @', 'mysql://u:p@ss@db/x', 'mysql://u:••••••@db/x'],
    ['a URL password with an empty user', 'redis://:hunter22@cache:6379', 'redis://:••••••@cache:6379'],
    ['a Stripe key', 'key sk_live_51HqZtB2eXample rejected', 'key sk_live_•••••• rejected'],
    ['a GitHub token', 'token ghp_R4nd0mT0k3nV4lu3F0rSp3c0123', 'token ghp_••••••'],
    ['a fine-grained GitHub token', 'github_pat_11ABCDEFG0abcdefghijklmnop_xyz', 'github_pat_••••••'],
    ['a Slack token', 'xoxb-2400-5511-Sl4ckB0tT0k3n', 'xoxb-••••••'],
    ['an AWS access key ID', 'id AKIAIOSFODNN7EXAMPLE here', 'id AKIA•••••• here'],
    ['a Google API key', 'AIzaSyA-1234567890abcdefghijklmnopqrstu', 'AIza••••••'],
    ['a JWT', 'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.SflKxwRJSMeKKF2QT4fwpMeJf36', 'jwt eyJ••••••'],
    ['a Bearer token', 'Authorization: Bearer abc.def-123_456', 'Authorization: Bearer ••••••'],
    ['Basic credentials', 'Authorization: Basic dXNlcjpwYXNzd29yZA==', 'Authorization: Basic ••••••'],
    ['NAME=value', 'export DB_PASSWORD=hunter2 next', 'export DB_PASSWORD=•••••• (masked, 7 characters) next'],
    ['a JSON pair', '{"password":"abc","user":"bob"}', '{"password":"•••••• (masked, 3 characters)","user":"bob"}'],
    ['a Python dict pair', "{'api_key': 'xyz123'}", "{'api_key': '•••••• (masked, 6 characters)'}"],
    ['a Ruby hash pair', 'secret => "xyz123"', 'secret => "•••••• (masked, 6 characters)"'],
    ['a command-line option', 'node app.js --db-password=Cmd-Pw-31 --port 3', 'node app.js --db-password=•••••• (masked, 9 characters) --port 3'],
    ['a query parameter', 'GET /cb?token=abc123&next=/', 'GET /cb?token=•••••• (masked, 6 characters)&next=/'],
    ['a known secret value, bare', 'connecting with Pg-Pass-4f1c9a7e now', 'connecting with •••••• (masked, 16 characters) now'],
    ['a known extra value (a connect password)', 'pw c0nnect-pa55word', 'pw •••••• (masked, 16 characters)'],
    ['the key of a DSN, keeping its host', 'dsn https://5f0c1d2e3a4b4c5d8e9f@o1.ingest.sentry.io/2', 'dsn https://•••••• (masked, 20 characters)@o1.ingest.sentry.io/2'],
  ];
  for (const [what, input, expected] of cases) it(`masks ${what}`, () => expect(masker.text(input)).to.equal(expected));

  const untouched = [
    'environment: development',
    "KeyError: key not found: :foo",
    'AuthenticationError: wrong user',
    'Basic authentication is not enabled',
    'set SECRET_KEY_BASE=$(bin/rails secret) first',
    'vault read secret/app > config/app.yml',
    'ops@example.com on call; see https://example.com/docs',
    'Listening on http://localhost:3999',
    '/usr/bin/node /srv/app/app.js:3:9',
    "/gems/actionpack/lib/action_dispatch/middleware/session/cookie_store.rb:12:in `load'",
    '    at Object.<anonymous> (/srv/app/lib/auth.js:3:9)',
    '{ "name": "app", "private": true }',
  ];
  for (const text of untouched) it(`leaves "${text}" alone`, () => expect(masker.text(text)).to.equal(text));

  it('masks a PEM private key between its BEGIN and END lines, keeping them', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nAAAAAAAABAAABFwAAAAdzc2gtcn\n-----END OPENSSH PRIVATE KEY-----';
    expect(masker.text(`key:\n${pem}\nafter`)).to.equal('key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n•••••• (masked, 59 characters)\n-----END OPENSSH PRIVATE KEY-----\nafter');
    expect(masker.text(pem.replaceAll('\n', '\\n'))).to.not.include('b3BlbnNzaC1rZXktdjEAAAAABG5vbmU');
    // Cut off before its END line: masked to the end.
    expect(masker.text(pem.split('\n').slice(0, 2).join('\n'))).to.equal('-----BEGIN OPENSSH PRIVATE KEY-----\n•••••• (masked, 31 characters)');
  });

  it('leaves a certificate (public) alone', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(masker.text(cert)).to.equal(cert);
  });

  it('does not treat common words as known secrets', () => {
    expect(masker.text('running in development mode')).to.equal('running in development mode');
  });

  it('is idempotent', () => {
    const once = masker.text('PGPASSWORD=Pg-Pass-4f1c9a7e postgres://u:pw1234@db sk_live_aaaaaaaaaaaa');
    expect(masker.text(once)).to.equal(once);
  });
});

describe('SecretMasker.lineByLine', () => {
  it('masks the lines of a private key printed line by line, and nothing after its END line', () => {
    const mask = new SecretMasker().lineByLine();
    const lines = ['before', '-----BEGIN EC PRIVATE KEY-----', 'MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oo', 'AwEHoUQDQgAE', '-----END EC PRIVATE KEY-----', 'after'];
    expect(lines.map(mask)).to.deep.equal([
      'before', '-----BEGIN EC PRIVATE KEY-----', '•••••• (masked, 42 characters)', '•••••• (masked, 12 characters)', '-----END EC PRIVATE KEY-----', 'after',
    ]);
  });
});

describe('maskReport', () => {
  const masker = new SecretMasker([{ STRIPE_SK: 'sk_test_0123456789abcdef', MYSQL_PWD: 'My-Pwd-0b2e8d61' }]);
  const raw = sampleReport({
    summary: 'login failed for My-Pwd-0b2e8d61',
    detail: 'Error: login failed for My-Pwd-0b2e8d61\n  at /srv/app/app.js:3:9',
    output: ['MYSQL_PWD=My-Pwd-0b2e8d61', '-----BEGIN RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEAt3sTpEMb0dyL', '-----END RSA PRIVATE KEY-----'],
    command: ['/bin/sh', '-c', 'app --api-key=k3y-0123456'],
    environment: { MYSQL_PWD: 'My-Pwd-0b2e8d61', PATH: '/usr/bin' },
    properties: { summary: 'login failed for My-Pwd-0b2e8d61', password: 'hunter2' },
    hints: [{ title: 'Check the key sk_test_0123456789abcdef', body: 'run `mysql -pMy-Pwd-0b2e8d61`', command: 'MYSQL_PWD=My-Pwd-0b2e8d61 mysql', plugin: 'x' }],
    sections: [{ title: 'Deploy', body: 'DATABASE_URL=postgres://u:pw1234@db/x', plugin: 'y' }],
  });
  // A field a future version adds is masked too: the walk does not name fields.
  (raw as unknown as Record<string, unknown>).futureField = { nested: ['token ghp_R4nd0mT0k3nV4lu3F0rSp3c0123'] };
  const masked = maskReport(raw, masker);
  const everything = JSON.stringify(masked);

  it('leaves no secret in any field, a plugin section or a field it does not know', () => {
    for (const secret of ['My-Pwd-0b2e8d61', 'sk_test_0123456789abcdef', 'k3y-0123456', 'hunter2', 'pw1234', 'MIIEowIBAAKCAQEAt3sTpEMb0dyL', 'R4nd0mT0k3nV4lu3']) {
      expect(everything).not.to.include(secret);
    }
  });

  it('keeps the structure and what is not secret', () => {
    expect(masked.journey).to.deep.equal(raw.journey);
    expect(masked.system).to.deep.equal(raw.system);
    expect(masked.environment).to.deep.equal({ MYSQL_PWD: '•••••• (masked, 15 characters)', PATH: '/usr/bin' });
    expect(masked.properties.password).to.equal('•••••• (masked, 7 characters)');
    expect(masked.hints[0]!.title).to.equal('Check the key sk_test_••••••');
    expect(masked.sections[0]!.body).to.equal('DATABASE_URL=postgres://u:••••••@db/x');
    expect(masked.output).to.deep.equal(['MYSQL_PWD=•••••• (masked, 15 characters)', '-----BEGIN RSA PRIVATE KEY-----', '•••••• (masked, 28 characters)', '-----END RSA PRIVATE KEY-----']);
    expect(masked.hints).to.have.length(1);
    expect(masked.sections).to.have.length(1);
    expect(maskReport(sampleReport(), masker).hints).to.deep.equal([]);
  });

  it('leaves nothing for the page or the text report to show', () => {
    for (const rendered of [renderReportHtml(masked), renderReportText(masked)]) {
      for (const secret of ['My-Pwd-0b2e8d61', 'sk_test_0123456789abcdef', 'hunter2', 'pw1234']) expect(rendered).not.to.include(secret);
    }
  });
});
