// @ts-check
// Which PHP script a request runs, as nginx's usual PHP setup decides it:
// a path that names an existing .php file under the document root runs that
// file (`/admin.php/users` runs admin.php with PATH_INFO `/users`); anything
// else goes to the front controller (the startup file: index.php, or
// public/index.php as Laravel and Symfony have it), with the request path as
// PATH_INFO. A path that leaves the document root never names a script.
import { stat } from 'node:fs/promises';
import { basename, dirname, posix } from 'node:path';

/**
 * @typedef {{ scriptFilename: string, scriptName: string, pathInfo: string, documentRoot: string }} ScriptParams
 */

/** Decodes a URL path; undefined when it is malformed or hides a NUL. */
function decodePath(path) {
  try {
    const decoded = decodeURIComponent(path);
    return decoded.includes('\0') ? undefined : decoded;
  } catch {
    return undefined;
  }
}

/** Files known to exist or not, briefly: a front-controller app asks for none, a script-per-URL app for the same few. */
const knownFiles = new Map();
const KNOWN_FILE_TTL_MS = 1000;
const KNOWN_FILES_MAX = 1024;

async function isFile(path) {
  const now = performance.now();
  const known = knownFiles.get(path);
  if (known && now - known.at < KNOWN_FILE_TTL_MS) return known.file;
  let file = false;
  try { file = (await stat(path)).isFile(); } catch { /* missing: the front controller answers */ }
  if (knownFiles.size >= KNOWN_FILES_MAX) knownFiles.clear();
  knownFiles.set(path, { file, at: now });
  return file;
}

/**
 * @param {string} startupFile absolute path of the front controller
 * @param {string} scriptNamePrefix the app's SCRIPT_NAME below its base URI ('' at the root)
 * @param {string} pathInfo the request path below the base URI, still percent-encoded
 * @returns {Promise<ScriptParams>}
 */
export async function scriptParams(startupFile, scriptNamePrefix, pathInfo) {
  const documentRoot = dirname(startupFile);
  const decoded = decodePath(pathInfo);
  const front = { scriptFilename: startupFile, scriptName: `${scriptNamePrefix}/${basename(startupFile)}`, pathInfo: decoded ?? '', documentRoot };
  if (decoded === undefined) return front;
  const m = /^(.*?\.php)(\/.*)?$/.exec(decoded);
  if (!m) return front;
  const script = posix.normalize(m[1]);
  // normalize() resolves `..`: what is left must still start below the root.
  if (!script.startsWith('/') || script.startsWith('/..') || script.includes('/../')) return front;
  const file = documentRoot + script;
  if (!(await isFile(file))) return front;
  return { scriptFilename: file, scriptName: scriptNamePrefix + script, pathInfo: m[2] ?? '', documentRoot };
}
