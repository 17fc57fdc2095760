// Finds and reads the app's configuration file with cosmiconfig. JavaScript
// configs are code: as root, they are evaluated in a child process running as
// the file's owner, so a config never runs with more privilege than its author.
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
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

const explorer = cosmiconfig('passenger', {
  searchPlaces,
  searchStrategy: 'none',
  cache: false,
  loaders: { '.js': loadJs, '.cjs': loadJs, '.mjs': loadJs, '.ts': () => { throw new Error('TypeScript config files are not supported on Node 20; use .js, .mjs, .json or .yaml'); } },
});

/** The configuration file in `appRoot`, or undefined when there is none. */
export async function findConfigFile(appRoot: string): Promise<ConfigFile | undefined> {
  let result;
  try {
    result = await explorer.search(appRoot);
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
