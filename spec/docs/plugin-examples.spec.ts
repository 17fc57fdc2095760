// The complete plugins in docs/plugins.md are the fixtures the specs run
// (run-generic-and-plugins, plugin-api, no-orphans, testing/test-kit): the docs show exactly
// what is tested, and the port-based one stays under 60 lines.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/passenger.ts';

function examples(): { path: string; code: string }[] {
  const doc = readFileSync(join(repoRoot, 'docs/plugins.md'), 'utf8');
  return [...doc.matchAll(/^<!-- example: (\S+) -->\n```\w*\n([\s\S]*?)^```$/gm)].map((m) => ({ path: m[1]!, code: m[2]! }));
}

describe('docs/plugins.md examples', () => {
  it('show the files of both example plugins exactly as the specs run them', () => {
    const found = examples();
    expect(found.map((e) => e.path.split('/').slice(-2).join('/'))).to.deep.equal([
      'passenger-plugin-hello/package.json', 'passenger-plugin-hello/index.mjs', 'passenger-plugin-hello/hello-loader.mjs',
      'passenger-plugin-procfile/package.json', 'passenger-plugin-procfile/index.js',
      'test/hello.spec.mjs',
    ]);
    for (const e of found) expect(e.code, e.path).to.equal(readFileSync(join(repoRoot, e.path), 'utf8'));
  });

  it('keep the port-based plugin under 60 lines', () => {
    const plugin = examples().find((e) => e.path.endsWith('passenger-plugin-procfile/index.js'))!;
    expect(plugin.code.split('\n').length).to.be.below(60);
  });
});
