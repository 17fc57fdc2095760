// Where an ES module's SyntaxError is. Node prints "file:line", the source line
// and a caret above the stack of an uncaught SyntaxError, but keeps them out of
// the error object, so a loader that catches the error (to report it) sees
// neither the file nor the line. Loaded only when loading the app failed.
//
// `node --check FILE` prints the same three lines for a file that does not
// parse and runs none of it. The whole static import graph is parsed before
// any module runs, so the culprit is the startup file or a file it imports:
// check the startup file, then the relative static imports, breadth first.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { fileURLToPath } = require('node:url');

const MAX_FILES = 30;
const CHECK_TIMEOUT_MS = 5000;
const RELATIVE_IMPORT = /(?:^|[;\s}])(?:import|export)\s*(?:[\w*${},\s]+?\s*from\s*)?['"](\.{1,2}\/[^'"]+)['"]/g;
const LOCATION_LINE = /^(?:file:\/\/)?\/\S*:\d+$/;

/** Whether the error already says where it is (a frame in a file of the app). */
function hasLocation(err) {
  return /(?:file:\/\/|\()?\/[^\s():]+:\d+/.test(String(err.stack || '').split('\n').filter((l) => !l.includes('node:internal')).join('\n'));
}

/** "file:line\nsource\ncaret" for a file that does not parse, else undefined. */
function checkFile(file) {
  const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: CHECK_TIMEOUT_MS });
  if (r.status === 0 || typeof r.stderr !== 'string') return undefined;
  const lines = r.stderr.split('\n');
  if (!LOCATION_LINE.test(lines[0] || '')) return undefined;
  return lines.slice(0, 3).join('\n');
}

function relativeImports(file) {
  let source;
  try { source = fs.readFileSync(file, 'utf8'); } catch { return []; }
  return [...source.matchAll(RELATIVE_IMPORT)].map((m) => path.resolve(path.dirname(file), m[1]));
}

/** The location of `err` (a SyntaxError from loading startupFile) as node would print it, or undefined. */
function syntaxErrorLocation(err, startupFile) {
  if (!(err instanceof SyntaxError) || hasLocation(err)) return undefined;
  const seen = new Set();
  const queue = [startupFile.startsWith('file:') ? fileURLToPath(startupFile) : startupFile];
  while (queue.length > 0 && seen.size < MAX_FILES) {
    const file = queue.shift();
    if (seen.has(file) || !fs.existsSync(file)) continue;
    seen.add(file);
    const found = checkFile(file);
    if (found) return found;
    queue.push(...relativeImports(file));
  }
  return undefined;
}

module.exports = { syntaxErrorLocation };
