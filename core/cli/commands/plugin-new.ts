// `passenger plugin new NAME [--dir DIR]`: writes a ready plugin package from
// templates/plugin/ (shipped in the npm package): package.json with
// passenger-ts as peer and dev dependency, a type-checked index.js, a
// fixture app, a mocha spec that uses passenger-ts/testing, and a README.
// The files are templates with __PLACEHOLDERS__, so they read as the code
// they become.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { PassengerError } from '../../errors/passenger-error.ts';
import { packageRoot, version } from '../../paths.ts';
import { PLUGIN_API_VERSION } from '../../plugin.ts';

/** The mocha the generated package's tests run under (the one passenger-ts's own specs use). */
const MOCHA_RANGE = '^12.0.3';

/** Template files whose name differs from the file they become (npm never packs a .gitignore). */
const RENAMED: Record<string, string> = { 'package.template.json': 'package.json', gitignore: '.gitignore' };

export interface PluginNames {
  /** The short name: app type, hook tap name, `plugins` entry. */
  name: string;
  /** The npm package name. */
  packageName: string;
  displayName: string;
  /** The option naming the interpreter. */
  option: string;
  startupFile: string;
}

/** `deno`, `passenger-plugin-deno` and `@acme/deno` are all the plugin "deno"; anything else is refused, saying why. */
export function pluginNames(input: string): PluginNames {
  const m = /^(?:(@[a-z0-9][a-z0-9._-]*)\/)?(?:passenger-plugin-)?([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$/.exec(input);
  if (!m) {
    throw new PassengerError('PSG_ERR_USAGE',
      `plugin name "${input}": use lower-case letters, digits and dashes, starting with a letter (e.g. deno, or @acme/deno for a scoped package)`, { name: input });
  }
  const [, scope, name] = m as unknown as [string, string | undefined, string];
  return {
    name,
    packageName: `${scope ? `${scope}/` : ''}passenger-plugin-${name}`,
    displayName: name.split('-').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' '),
    option: `${name.replaceAll('-', '_')}_interpreter`,
    startupFile: `${name}-app.js`,
  };
}

/** The caret range of the plugin API this server speaks: its minor version before 1.0 (docs/plugins.md, Versions). */
export function peerRange(serverVersion: string): string {
  const [major = '0', minor = '0'] = serverVersion.split('.');
  return major === '0' ? `^0.${minor}.0` : `^${major}.0.0`;
}

function templateFiles(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? templateFiles(path, base) : [relative(base, path)];
  });
}

/** Writes the package into `targetDir` (which must not exist, or be empty); returns the files written, relative to it. */
export function writePluginPackage(names: PluginNames, targetDir: string): string[] {
  if (existsSync(targetDir) && readdirSync(targetDir).length > 0) {
    throw new PassengerError('PSG_ERR_USAGE', `${targetDir} already exists and is not empty: choose another --dir, or remove it`, { dir: targetDir });
  }
  const values: Record<string, string> = {
    __PACKAGE__: names.packageName, __NAME__: names.name, __DISPLAY__: names.displayName, __OPTION__: names.option,
    __STARTUP_FILE__: names.startupFile, __PEER_RANGE__: peerRange(version), __MOCHA_RANGE__: MOCHA_RANGE,
    __API_VERSION__: String(PLUGIN_API_VERSION),
  };
  const fill = (text: string) => text.replace(/__[A-Z_]+__/g, (key) => values[key] ?? key);
  const templates = join(packageRoot, 'templates/plugin');
  const written: string[] = [];
  for (const file of templateFiles(templates).sort()) {
    const parts = file.split('/');
    const target = fill([...parts.slice(0, -1), RENAMED[parts.at(-1)!] ?? parts.at(-1)!].join('/'));
    mkdirSync(join(targetDir, target, '..'), { recursive: true });
    writeFileSync(join(targetDir, target), fill(readFileSync(join(templates, file), 'utf8')));
    written.push(target);
  }
  return written;
}

export function pluginCommand(positionals: string[], flags: Record<string, string | boolean>): number {
  const [sub, name, ...extra] = positionals;
  if (sub !== 'new' || name === undefined || extra.length > 0) {
    throw new PassengerError('PSG_ERR_USAGE', 'usage: passenger plugin new NAME [--dir DIR]', { argv: positionals });
  }
  const unknown = Object.keys(flags).filter((f) => f !== 'dir');
  if (unknown.length > 0) throw new PassengerError('PSG_ERR_USAGE', `plugin new: unknown flag --${unknown[0]!.replaceAll('_', '-')} (it takes --dir DIR)`, { flag: unknown[0] });
  if (flags.dir === true || flags.dir === '') throw new PassengerError('PSG_ERR_USAGE', 'plugin new: --dir needs a directory', { flag: 'dir' });
  const names = pluginNames(name);
  const dir = resolve(typeof flags.dir === 'string' ? flags.dir : names.packageName.split('/').at(-1)!);
  const files = writePluginPackage(names, dir);
  process.stdout.write(`Wrote ${names.packageName} in ${dir}:\n${files.map((f) => `  ${f}\n`).join('')}
Next:
  cd ${dir}
  npm install
  npm test
Then make index.js run your language (docs/plugins.md of passenger-ts), and publish with npm publish.
`);
  return 0;
}
