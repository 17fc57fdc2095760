// Where a Node app starts, in the order people lay apps out: package.json
// "main", else the file its "scripts.start" runs with node (`node server.js`),
// else index.js, server.js or app.js. Every answer says why, for
// `passenger detect`, including what was passed over on the way.
import { extname, isAbsolute, join } from 'node:path';
import type { AppTypeMatch, DetectContext } from '../../core/index.ts';

export const NODE = 'node';
const EXTENSIONS = new Set(['.js', '.cjs', '.mjs']);
export const CONVENTIONAL_FILES = ['index.js', 'server.js', 'app.js'];
/** For the "cannot tell what kind of app" error: what this detector looks for. */
export const LOOKED_FOR = `package.json "main", or the file its "scripts.start" runs with node, or ${CONVENTIONAL_FILES.join(', ')}`;

interface PackageJson { main?: unknown; scripts?: { start?: unknown } }

/** The script `scripts.start` runs when it is `[VAR=value...] node [node options] FILE [args]`; undefined for anything else. */
export function scriptOfStartCommand(start: string): string | undefined {
  const words = start.trim().split(/\s+/);
  // Environment assignments first (NODE_ENV=production node app.js) are the shell's business.
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) words.shift();
  if (words[0] !== 'node') return undefined;
  const file = words.slice(1).find((w) => !w.startsWith('-'));
  // `node --require x app.js` would name x: only options without a separate value are understood.
  const optionWithValue = words.slice(1, words.indexOf(file ?? '')).some((w) => /^(-r|--require|--import|--loader|-e|--eval|-p)$/.test(w));
  return file && !optionWithValue && !/[;&|<>$`]/.test(file) ? file : undefined;
}

export async function detectNode(ctx: DetectContext): Promise<AppTypeMatch | undefined> {
  const requested = ctx.options.app_type;
  if (requested !== undefined && requested !== NODE) return undefined;
  const abs = (f: string) => (isAbsolute(f) ? f : join(ctx.appRoot, f));
  const configured = ctx.options.startup_file;
  if (typeof configured === 'string') {
    if (requested === NODE || EXTENSIONS.has(extname(configured))) return { appType: NODE, startupFile: abs(configured), reason: `startup_file is ${configured}` };
    return undefined;
  }
  const passed: string[] = [];
  const text = await ctx.readFile('package.json');
  if (text !== undefined) {
    let pkg: PackageJson = {};
    try { pkg = JSON.parse(text) as PackageJson; } catch { passed.push('package.json is not valid JSON'); }
    if (typeof pkg.main === 'string') {
      if (await ctx.exists(pkg.main)) return { appType: NODE, startupFile: abs(pkg.main), reason: `package.json "main" is ${pkg.main}` };
      passed.push(`package.json "main" names ${pkg.main}, which does not exist`);
    } else if (typeof pkg === 'object' && pkg !== null && !passed.length) {
      passed.push('package.json has no "main"');
    }
    const start = pkg?.scripts?.start;
    if (typeof start === 'string') {
      const script = scriptOfStartCommand(start);
      if (script !== undefined && await ctx.exists(script)) {
        return { appType: NODE, startupFile: abs(script), reason: `${passed.join('; ')}; "scripts.start" (${start}) runs ${script}` };
      }
      passed.push(script === undefined ? `"scripts.start" (${start}) does not run node FILE` : `"scripts.start" runs ${script}, which does not exist`);
    } else if (text !== undefined && passed.length) {
      passed.push('no "scripts.start"');
    }
  }
  for (const file of CONVENTIONAL_FILES) {
    if (await ctx.exists(file)) return { appType: NODE, startupFile: abs(file), reason: [...passed, `found ${file}`].join('; ') };
  }
  if (requested === NODE) return { appType: NODE, startupFile: abs('app.js'), reason: [...passed, 'app_type is node'].join('; ') };
  return undefined;
}
