// The secrets one app's process knows: what is masked in its error reports and
// in its output as it goes to the log. The server's own environment counts
// too: the app inherits it, and a loader may print it.
import type { AppSpec } from '../config/app-spec.ts';
import { SecretMasker } from '../error-reports/mask-secrets.ts';
import type { SpawnCommand } from './spawn-command.ts';

export function secretMaskerFor(cmd: SpawnCommand | undefined, app?: AppSpec): SecretMasker {
  const connectPassword = cmd?.handshake.connect_password;
  return new SecretMasker(
    [cmd?.env ?? {}, app?.options.envvars ?? {}, process.env],
    connectPassword ? [connectPassword] : [],
  );
}
