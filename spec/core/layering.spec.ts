// The layering the kernel promises: core/errors/ holds codes and types and
// depends on nothing else (building and rendering reports live in
// core/error-reports/), and the core's option table names no language: a
// language's options and its words belong to its plugin.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { coreOptions } from '../../core/config/schema.ts';
import { repoRoot } from '../support/passenger.ts';

const LANGUAGE_WORDS = /\b(ruby|rack|rails|bundler|python|wsgi|asgi|node\.?js|meteor|php|RACK_ENV|RAILS_ENV|NODE_ENV)\b/i;

describe('layering of the core', () => {
  it('core/errors/ imports only from core/errors/', () => {
    const dir = join(repoRoot, 'core/errors');
    for (const file of readdirSync(dir)) {
      const imports = [...readFileSync(join(dir, file), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) expect(spec, `${file} imports ${spec}`).to.match(/^\.\/[\w-]+\.ts$/);
    }
  });

  it('no core option names a language, not even in its doc', () => {
    for (const def of coreOptions) expect(`${def.name}: ${def.doc}`).not.to.match(LANGUAGE_WORDS);
  });
});
