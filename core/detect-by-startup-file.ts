// The detector most plugins need: "this is my app type when one of its startup
// files exists, or when app_type names it", honouring startup_file. With a
// `check`, a startup file that exists but is not the type's (a main.py with no
// ASGI app) is a near miss: the directory is not claimed, and if no other
// detector claims it, the error says what was found. Built-in plugins use it
// and so may third parties.
import { extname, isAbsolute, join, relative } from 'node:path';
import type { AppTypeDescriptor } from './registries/app-types.ts';
import type { AppTypeMatch, DetectContext } from './hooks.ts';

export interface StartupFileCheck {
  /**
   * Looks at a startup file that exists (path relative to the app root, and its
   * text): true when it is the type's, else why not ("it defines no ASGI app").
   * Not called when app_type names the type: then the file is the type's.
   */
  check?(file: string, text: string, ctx: DetectContext): boolean | string | Promise<boolean | string>;
}

export function detectByStartupFile(type: Pick<AppTypeDescriptor, 'name' | 'startupFiles'> & { displayName?: string }, opts: StartupFileCheck = {}) {
  const display = type.displayName ?? type.name;
  return async (ctx: DetectContext): Promise<AppTypeMatch | undefined> => {
    const requested = ctx.options.app_type as string | undefined;
    const configured = ctx.options.startup_file as string | undefined;
    if (requested !== undefined && requested !== type.name) return undefined;
    const abs = (f: string) => (isAbsolute(f) ? f : join(ctx.appRoot, f));
    // True when the file is ours; a near miss is reported and answers false.
    const accepts = async (file: string): Promise<boolean> => {
      if (requested === type.name || !opts.check) return true;
      const rel = isAbsolute(file) ? relative(ctx.appRoot, file) : file;
      const verdict = await opts.check(rel, (await ctx.readFile(rel)) ?? '', ctx);
      if (verdict === true) return true;
      ctx.nearMiss(`found ${rel}, but ${typeof verdict === 'string' ? verdict : `it is not a ${display} app`} (${display})`);
      return false;
    };
    if (configured !== undefined) {
      // A configured startup file is ours when the type was asked for, or it has the extension of our startup files.
      if (requested === type.name || type.startupFiles.some((f) => extname(f) !== '' && extname(f) === extname(configured))) {
        if (!(await accepts(configured))) return undefined;
        return { appType: type.name, startupFile: abs(configured), reason: `startup_file is ${configured}` };
      }
      return undefined;
    }
    for (const file of type.startupFiles) {
      if (await ctx.exists(file)) {
        if (!(await accepts(file))) continue;
        return { appType: type.name, startupFile: abs(file), reason: requested ? `app_type is ${type.name}` : `found ${file}` };
      }
    }
    if (requested === type.name) {
      return { appType: type.name, startupFile: abs(type.startupFiles[0] ?? ''), reason: `app_type is ${type.name}` };
    }
    return undefined;
  };
}
