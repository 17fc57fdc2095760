// Which kind of Meteor app a directory holds: an unbundled one (the project,
// with its .meteor/ directory, run by `meteor run`) or a bundled one (the
// output of `meteor build`: main.js next to programs/server/, run by Node).
import { join } from 'node:path';
import type { AppTypeMatch, DetectContext } from '../../core/index.ts';

export const METEOR = 'meteor';
/** The startup file recorded for an unbundled app; it tells the two kinds apart later. */
export const UNBUNDLED_MARKER = '.meteor';

export function isUnbundled(startupFile: string): boolean {
  return startupFile.endsWith(`/${UNBUNDLED_MARKER}`);
}

export async function detectMeteor(ctx: DetectContext): Promise<AppTypeMatch | undefined> {
  const requested = ctx.options.app_type;
  if (requested !== undefined && requested !== METEOR) return undefined;
  if (await ctx.exists('.meteor/release')) {
    return { appType: METEOR, startupFile: join(ctx.appRoot, UNBUNDLED_MARKER), reason: 'found .meteor/ (an unbundled Meteor app)' };
  }
  if (await ctx.exists('main.js') && await ctx.exists('programs/server')) {
    return { appType: METEOR, startupFile: join(ctx.appRoot, 'main.js'), reason: 'found main.js and programs/server/ (a bundled Meteor app)' };
  }
  return undefined;
}
