// docs/errors.md documents every error code: the table and core/errors/codes.ts
// must list the same codes, in the same order, with the same meaning.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codes } from '../../core/errors/codes.ts';
import { repoRoot } from '../support/passenger.ts';

interface DocRow { code: string; meaning: string; fix: string }

function documentedCodes(): DocRow[] {
  const doc = readFileSync(join(repoRoot, 'docs/errors.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Error codes'));
  return [...table.matchAll(/^\| `(PSG_[A-Z0-9_]+)` \| ([^|]+) \| (.+) \|$/gm)].map((m) => ({ code: m[1]!, meaning: m[2]!.trim(), fix: m[3]!.trim() }));
}

describe('docs/errors.md', () => {
  const rows = documentedCodes();

  it('lists every code of core/errors/codes.ts, in order, and no other', () => {
    expect(rows.map((r) => r.code)).to.deep.equal(Object.keys(codes));
  });

  it("gives each code the meaning codes.ts gives it", () => {
    for (const r of rows) expect(r.meaning, r.code).to.equal(codes[r.code as keyof typeof codes]);
  });

  it('says how to fix each one', () => {
    for (const r of rows) expect(r.fix.length, r.code).to.be.above(20);
  });
});
