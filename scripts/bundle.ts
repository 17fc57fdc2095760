// The second step of `npm run build`: tsc wrote one dist/ module per source
// file (171 for the core); this folds them into a few shared chunks, keeping
// every entry point at its path. Node 20's ES module loader costs about a
// millisecond per module, the watchdog and the core each load their graph
// on a cold start, and each module keeps some memory: measured here, the first answer
// came 117 ms sooner (760 -> 643 ms) and the core's RSS fell by 1.3 MiB.
//
// The package's entry points (bin, exports, the core's process) are bundled
// together with code splitting, so a plugin importing 'passenger-ts' loads the
// very chunks the core runs: one copy of every class and registry. npm
// packages stay external. The .d.ts files tsc wrote are kept for the types.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');
const ENTRY_POINTS = [
  'core/cli/main.js', // bin/passenger.js
  'core/cli/core-main.js', // the core's process
  'core/index.js', // exports '.'
  'plugins/languages/index.js', // exports './languages'
  'plugins/index.js', // the built-in plugins, for who installs the package
  'testing/index.js', // exports './testing'
];

const result = await build({
  entryPoints: ENTRY_POINTS.map((e) => join(dist, e)),
  outdir: dist,
  outbase: dist,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true, // composed with tsc's maps: stack traces still name the .ts files
  metafile: true,
  logLevel: 'warning',
});

// tsc's module files that the bundle replaced; the declarations stay.
const written = new Set(Object.keys(result.metafile.outputs).map((p) => join(root, p)));
const entries = readdirSync(dist, { recursive: true, withFileTypes: true });
for (const f of entries) {
  const file = join(f.parentPath, f.name);
  if (f.isFile() && /\.js(\.map)?$/.test(file) && !written.has(file)) rmSync(file);
}
// Directories left empty, the deepest first (so a parent whose only child was an empty directory goes too).
const dirs = entries.filter((d) => d.isDirectory()).map((d) => join(d.parentPath, d.name));
for (const dir of dirs.sort((a, b) => b.length - a.length)) {
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
}
const js = [...written].filter((p) => p.endsWith('.js'));
process.stdout.write(`bundle: ${ENTRY_POINTS.length} entry points, ${js.length - ENTRY_POINTS.length} chunks in ${relative(root, dist)}/\n`);
