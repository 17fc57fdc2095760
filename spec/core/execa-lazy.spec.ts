// execa is for short-lived commands only and is loaded by the code that runs
// one (docs/architecture.md, "Child processes"): no module of the core or of
// a built-in plugin imports it statically, so a core that serves requests
// never loads its 23 packages (about 14 MiB and 130 ms to import).
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../support/passenger.ts';

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('execa stays off the core', () => {
  const files = [...tsFiles(join(repoRoot, 'core')), ...tsFiles(join(repoRoot, 'plugins'))];

  it('is never imported statically by core/ or plugins/', () => {
    const offenders = files.filter((f) => /^\s*import\b[^'"]*from\s+'execa'/m.test(readFileSync(f, 'utf8'))).map((f) => relative(repoRoot, f));
    expect(offenders).to.deep.equal([]);
  });

  it('is loaded lazily exactly where short commands run', () => {
    const lazy = files.filter((f) => readFileSync(f, 'utf8').includes("await import('execa')")).map((f) => relative(repoRoot, f)).sort();
    expect(lazy).to.deep.equal(['core/cli/commands/check-with.ts', 'core/config/search.ts', 'plugins/rack/ruby-hints.ts']);
  });
});
