// The app's environment, built in one place: ours minus the variables that
// configure the server itself, plus the app's own settings.
import type { AppSpec } from '../config/app-spec.ts';
import type { OptionDef } from '../registries/options.ts';
import { envVarName } from '../config/merge.ts';
import type { UserIdentity } from './user-switch.ts';

export function buildAppEnv(app: AppSpec, options: readonly OptionDef[], user: UserIdentity, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const def of options) delete env[envVarName(def.name)];
  env.HOME = user.home;
  env.USER = user.name;
  env.LOGNAME = user.name;
  env.SHELL = user.shell;
  env.PASSENGER_APP_ENV = app.options.environment;
  env.IN_PASSENGER = '1';
  Object.assign(env, app.options.envvars);
  return env;
}
