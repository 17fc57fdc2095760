// Finds and reads the app's configuration file with cosmiconfig. JavaScript
// configs are code: as root, they are evaluated in a child process running as
// the file's owner, so a config never runs with more privilege than its author.
// cosmiconfig (and the parsers it pulls in) is loaded only when there is
// something for it to find, so that a core serving an app without a config
// file never loads it.
import type { Loader, PublicExplorer } from 'cosmiconfig';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PassengerError } from '../errors/passenger-error.ts';

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
}

const EVAL_IN_CHILD = `
const url = process.argv[1];
import(url).then((m) => {
  let c = m.default ?? m;
  return typeof c === 'function' ? c() : c;
}).then((c) => { process.stdout.write(JSON.stringify(c ?? {})); })
  .catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

/** Evaluates a JS config as its owner when we are root and the owner is not. */
const loadJs: Loader = async (filepath, content) => {
  const owner = statSync(filepath);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!asRoot || owner.uid === 0) {
    const { defaultLoaders } = await import('cosmiconfig');
    const loaded = await defaultLoaders['.mjs'](filepath, content) as unknown;
    return typeof loaded === 'function' ? await (loaded as () => unknown)() : loaded;
  }
  const child = await new Promise<{ failed: boolean; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', EVAL_IN_CHILD, pathToFileURL(filepath).href], {
      uid: owner.uid, gid: owner.gid, timeout: 10000, maxBuffer: 100e6, encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/' },
    }, (err, stdout, stderr) => resolve({ failed: err !== null, stdout, stderr }));
  });
  if (child.failed) {
    throw new PassengerError('PSG_ERR_CONFIG_PARSE', `${filepath}: evaluating it as uid ${owner.uid} failed: ${child.stderr.split('\n')[0]}`, { file: filepath });
  }
  return JSON.parse(child.stdout) as unknown;
};

let explorer: Promise<PublicExplorer> | undefined;

/** Created on first need and kept (cosmiconfig reads its meta configuration when it creates one). */
function getExplorer(): Promise<PublicExplorer> {
  explorer ??= import('cosmiconfig').then(({ cosmiconfig }) => cosmiconfig('passenger', {
    searchPlaces,
    searchStrategy: 'none',
    cache: false,
    loaders: { '.js': loadJs, '.cjs': loadJs, '.mjs': loadJs, '.ts': () => { throw new Error('TypeScript config files are not supported on Node 20; use .js, .mjs, .json or .yaml'); } },
  }));
  return explorer;
}

// The errors cosmiconfig takes for "no file here" when it reads a search place.
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES']);

/** False only when cosmiconfig would certainly skip `path`. */
function mayExist(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    return !ABSENT.has((e as NodeJS.ErrnoException).code ?? '');
  }
}

// cosmiconfig also reads a meta configuration from the working directory (the
// "cosmiconfig" key of package.json, or .config/config.*), which can add search
// places or be a configuration itself. These are its metaSearchPlaces.
const META_PLACES = ['package.yaml', '.config/config.json', '.config/config.yaml', '.config/config.yml',
  '.config/config.js', '.config/config.ts', '.config/config.cjs', '.config/config.mjs'];
let metaConfigMayExist: boolean | undefined;

function mayHaveMetaConfig(): boolean {
  metaConfigMayExist ??= (() => {
    try {
      const cwd = process.cwd();
      if (META_PLACES.some((f) => mayExist(join(cwd, f)))) return true;
      let pkg: string;
      try { pkg = readFileSync(join(cwd, 'package.json'), 'utf8'); } catch (e) { return !ABSENT.has((e as NodeJS.ErrnoException).code ?? ''); }
      // The common package.json without a "cosmiconfig" key is no meta configuration.
      const parsed = JSON.parse(pkg) as { cosmiconfig?: unknown } | null;
      return parsed === null || parsed.cosmiconfig !== undefined;
    } catch {
      return true; // not JSON, no working directory...: cosmiconfig says what it makes of it
    }
  })();
  return metaConfigMayExist;
}

/** The configuration file in `appRoot`, or undefined when there is none. */
export async function findConfigFile(appRoot: string): Promise<ConfigFile | undefined> {
  if (!searchPlaces.some((f) => mayExist(join(appRoot, f))) && !mayHaveMetaConfig()) return undefined;
  let result;
  try {
    result = await (await getExplorer()).search(appRoot);
  } catch (e) {
    if (e instanceof PassengerError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new PassengerError('PSG_ERR_CONFIG_PARSE', `cannot read the configuration in ${appRoot}: ${msg}`, { dir: appRoot }, { cause: e });
  }
  if (!result) return undefined;
  const values = result.isEmpty ? {} : result.config as unknown;
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw new PassengerError('PSG_ERR_CONFIG_PARSE', `${result.filepath}: the configuration must be an object of options, got ${Array.isArray(values) ? 'an array' : typeof values}`, { file: result.filepath });
  }
  return { path: result.filepath, values: values as Record<string, unknown> };
}
