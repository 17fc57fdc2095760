// The detector most plugins need: "this is my app type when one of its startup
// files exists, or when app_type names it". Built-in plugins use it and so may
// third parties.
import { extname, isAbsolute, join } from 'node:path';
import type { AppTypeDescriptor } from './registries/app-types.ts';
import type { AppTypeMatch, DetectContext } from './hooks.ts';

export function detectByStartupFile(type: Pick<AppTypeDescriptor, 'name' | 'startupFiles'>) {
  return async (ctx: DetectContext): Promise<AppTypeMatch | undefined> => {
    const requested = ctx.options.app_type as string | undefined;
    const configured = ctx.options.startup_file as string | undefined;
    if (requested !== undefined && requested !== type.name) return undefined;
    const abs = (f: string) => (isAbsolute(f) ? f : join(ctx.appRoot, f));
    if (configured !== undefined) {
      // A configured startup file is ours when the type was asked for, or it has the extension of our startup files.
      if (requested === type.name || type.startupFiles.some((f) => extname(f) !== '' && extname(f) === extname(configured))) {
        return { appType: type.name, startupFile: abs(configured), reason: `startup_file is ${configured}` };
      }
      return undefined;
    }
    for (const file of type.startupFiles) {
      if (await ctx.exists(file)) {
        return { appType: type.name, startupFile: abs(file), reason: requested ? `app_type is ${type.name}` : `found ${file}` };
      }
    }
    if (requested === type.name) {
      return { appType: type.name, startupFile: abs(type.startupFiles[0] ?? ''), reason: `app_type is ${type.name}` };
    }
    return undefined;
  };
}
