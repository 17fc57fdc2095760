import { expect } from 'chai';
import { isMasked, maskEnvironment } from '../../core/errors/mask-secrets.ts';

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
