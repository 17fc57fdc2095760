// Finds and reads the app's configuration file. The parsers come from
// cosmiconfig's loaders, but the search is ours: cosmiconfig's explorer also
// reads a "meta configuration" from the working directory (.config/config.*,
// the "cosmiconfig" key of package.json) and follows `$import` keys, so a
// file no one meant as configuration would be loaded (and, for JavaScript,
// run) by whoever starts the server. cosmiconfig is loaded only when there is
// a file to parse, so that a core serving an app without one never loads it.
//
// When the server runs as root, a file is read only after checking who can
// change it (security/path-control.ts): JavaScript runs in a child as the one
// user who controls it, or in-process when only root does, and is refused
// when others can change it; JSON and YAML are read as data, never through a
// symbolic link that a user controls. The result says who controls the file,
// so options in it that would make root run code or follow a path can be refused.
import type { Loader } from 'cosmiconfig';
import { constants, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PassengerError } from '../errors/passenger-error.ts';
import { describeControl, describeUid, pathControl, type PathControl } from '../security/path-control.ts';
import { isRoot, lookupUser } from '../spawn/user-switch.ts';

/** Searched in this order in the app directory (first found wins); not in parent directories. */
export const searchPlaces = [
  'Passengerfile.json',
  '.passengerrc',
  '.passengerrc.json',
  '.passengerrc.yaml',
  '.passengerrc.yml',
  '.passengerrc.js',
  '.passengerrc.cjs',
  '.passengerrc.mjs',
  'passenger.config.js',
  'passenger.config.cjs',
  'passenger.config.mjs',
];

export interface ConfigFile {
  path: string;
  values: Record<string, unknown>;
  /**
   * Set when the server runs as root and a user other than root can change
   * the file: that user's uid. Options in it must not make root run code or
   * follow a path (boot.ts, resolve-app.ts).
   */
  controlledBy?: number;
}

const JS_EXTENSIONS = new Set(['.js', '.cjs', '.mjs']);

const EVAL_IN_CHILD = `
const url = process.argv[1];
import(url).then((m) => {
  let c = m.default ?? m;
  return typeof c === 'function' ? c() : c;
}).then((c) => { process.stdout.write(JSON.stringify(c ?? {})); })
  .catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

/** Evaluates a JS config in a child process running as `uid`. */
async function evaluateAs(filepath: string, uid: number, gid: number): Promise<unknown> {
  // execa, loaded only here (root reading a JS config another user controls): its error says how the
  // child ended (exit code, signal, timeout) and kills a hung one with SIGKILL after the timeout.
  const { execa } = await import('execa');
  const child = await execa(process.execPath, ['--input-type=module', '-e', EVAL_IN_CHILD, pathToFileURL(filepath).href], {
    uid, gid, timeout: 10000, forceKillAfterDelay: 1000, maxBuffer: 100e6, reject: false, stdin: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/' }, extendEnv: false,
  });
  if (child.failed) {
    const why = child.stderr.split('\n').find((l) => l.trim() !== '') ?? child.shortMessage;
    throw new PassengerError('PSG_ERR_CONFIG_PARSE', `${filepath}: evaluating it as uid ${uid} failed${child.timedOut ? ' (timed out after 10 s)' : ''}: ${why}`, { file: filepath });
  }
  return JSON.parse(child.stdout) as unknown;
}

async function evaluateInProcess(filepath: string): Promise<unknown> {
  const { defaultLoaders } = await import('cosmiconfig');
  const loaded = await defaultLoaders['.mjs'](filepath, '') as unknown;
  return typeof loaded === 'function' ? await (loaded as () => unknown)() : loaded;
}

function unsafe(code: 'PSG_ERR_CONFIG_UNSAFE_JS' | 'PSG_ERR_CONFIG_UNSAFE', filepath: string, owner: number, control: PathControl, why: string): PassengerError {
  return new PassengerError(code, `${filepath} (owned by ${describeUid(owner)}): ${why}; ${describeControl(control)}`,
    { file: filepath, owner, controlledBy: control.users, ...(control.openTo !== undefined ? { openTo: control.openTo } : {}) });
}

/** As root: who controls the file, refusing what root must not read. Undefined when only root does. */
function checkForRoot(filepath: string, js: boolean): number | undefined {
  const control = pathControl(filepath);
  const owner = statSync(filepath).uid;
  if (control.openTo !== undefined || control.users.length > 1) {
    throw js
      ? unsafe('PSG_ERR_CONFIG_UNSAFE_JS', filepath, owner, control, 'root does not run a JavaScript configuration that more than one user can change')
      : unsafe('PSG_ERR_CONFIG_UNSAFE', filepath, owner, control, 'root does not read a configuration that more than one user can change');
  }
  const user = control.users[0];
  if (user !== undefined && control.symlink) {
    throw unsafe('PSG_ERR_CONFIG_UNSAFE', filepath, owner, control, 'it is a symbolic link that another user controls, and root does not follow it');
  }
  return user;
}

// The errors that mean "no file here" for a search place.
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES']);

/** False only when there is certainly no file at `path`. */
function mayExist(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    return !ABSENT.has((e as NodeJS.ErrnoException).code ?? '');
  }
}

/**
 * Reads a data file without following a symbolic link at its name (a user
 * who controls the directory could swap one in after the check), and refuses
 * a root-owned file its controlling user could not read: a hard link to a
 * secret must not reach root's error messages.
 */
async function readData(filepath: string, controlledBy: number | undefined): Promise<string> {
  const handle = await open(filepath, constants.O_RDONLY | (controlledBy !== undefined ? constants.O_NOFOLLOW : 0));
  try {
    if (controlledBy !== undefined) {
      const st = await handle.stat();
      if (!st.isFile()) throw new PassengerError('PSG_ERR_CONFIG_UNSAFE', `${filepath} is not a regular file`, { file: filepath });
      if (st.uid !== controlledBy && (st.mode & 0o004) === 0) {
        throw new PassengerError('PSG_ERR_CONFIG_UNSAFE',
          `${filepath} (owned by ${describeUid(st.uid)}) is in a directory ${describeUid(controlledBy)} controls, but that user may not read it; root does not read it for them`,
          { file: filepath, owner: st.uid, controlledBy: [controlledBy] });
      }
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

async function loadPlace(filepath: string): Promise<{ values: unknown; controlledBy: number | undefined } | undefined> {
  const ext = extname(filepath);
  const js = JS_EXTENSIONS.has(ext);
  const controlledBy = isRoot() ? checkForRoot(filepath, js) : undefined;
  if (js) {
    if (controlledBy === undefined) return { values: await evaluateInProcess(filepath), controlledBy };
    const gid = lookupUser(controlledBy)?.gid ?? statSync(filepath).gid;
    return { values: await evaluateAs(filepath, controlledBy, gid), controlledBy };
  }
  const content = await readData(filepath, controlledBy);
  if (content.trim() === '') return undefined; // an empty file is no configuration: keep looking
  const { defaultLoaders } = await import('cosmiconfig');
  const loader: Loader = ext === '.json' ? defaultLoaders['.json'] : defaultLoaders['.yaml'];
  return { values: await loader(filepath, content) as unknown, controlledBy };
}

/** The configuration file in `appRoot`, or undefined when there is none. */
export async function findConfigFile(appRoot: string): Promise<ConfigFile | undefined> {
  for (const place of searchPlaces) {
    const filepath = join(appRoot, place);
    if (!mayExist(filepath)) continue;
    let loaded;
    try {
      loaded = await loadPlace(filepath);
    } catch (e) {
      if (e instanceof PassengerError) throw e;
      if (ABSENT.has((e as NodeJS.ErrnoException).code ?? '')) continue;
      const msg = e instanceof Error ? e.message : String(e);
      throw new PassengerError('PSG_ERR_CONFIG_PARSE', `cannot read the configuration ${filepath}: ${msg}`, { file: filepath }, { cause: e });
    }
    // null or nothing (a YAML file of comments): no configuration here, as cosmiconfig had it.
    if (loaded === undefined || loaded.values === undefined || loaded.values === null) continue;
    const { values, controlledBy } = loaded;
    if (typeof values !== 'object' || Array.isArray(values)) {
      throw new PassengerError('PSG_ERR_CONFIG_PARSE', `${filepath}: the configuration must be an object of options, got ${Array.isArray(values) ? 'an array' : typeof values}`, { file: filepath });
    }
    if (Object.hasOwn(values, '$import')) {
      throw new PassengerError('PSG_ERR_CONFIG_PARSE', `${filepath}: "$import" is not supported: put every option in this one file`, { file: filepath, key: '$import' });
    }
    return { path: filepath, values: values as Record<string, unknown>, ...(controlledBy !== undefined ? { controlledBy } : {}) };
  }
  return undefined;
}
