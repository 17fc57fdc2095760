// The environment a Meteor app reads its configuration from: ROOT_URL,
// MONGO_URL and METEOR_SETTINGS (the JSON of the meteor_app_settings file).
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { AppSpec } from '../../core/index.ts';
import { PassengerError } from '../../core/index.ts';

export function settingsPath(app: AppSpec): string | undefined {
  const file = app.options.meteor_app_settings;
  if (typeof file !== 'string' || file === '') return undefined;
  return isAbsolute(file) ? file : join(app.appRoot, file);
}

export async function meteorEnv(app: AppSpec, opts: { withSettings: boolean; defaultRootUrl?: string }): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  // An explicit root_url wins; otherwise a ROOT_URL in envvars stays, else the default.
  if (typeof app.options.root_url === 'string') env.ROOT_URL = app.options.root_url;
  else if (opts.defaultRootUrl && app.options.envvars.ROOT_URL === undefined) env.ROOT_URL = opts.defaultRootUrl;
  if (typeof app.options.mongo_url === 'string') env.MONGO_URL = app.options.mongo_url;
  const path = settingsPath(app);
  if (opts.withSettings && path) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
      JSON.parse(text);
    } catch (e) {
      throw new PassengerError('PSG_ERR_CONFIG_TYPE', `meteor_app_settings: ${path} is not a readable JSON file (${(e as Error).message})`, { key: 'meteor_app_settings' });
    }
    env.METEOR_SETTINGS = text;
  }
  return env;
}
