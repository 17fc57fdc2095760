// What a configuration file that a user other than root controls may not set
// when the server runs as root (search.ts says who controls the file). Its
// options are data for that user's app; none may make root run code or
// follow a path: no plugins (loaded by root), no instance registry (created
// and chowned by root), no default user for other apps, and `user`/`group`
// only for the user who controls the file.
import { PassengerError } from '../errors/passenger-error.ts';
import { describeUid } from '../security/path-control.ts';
import { isMemberOfGroup, lookupGroupId, lookupUser } from '../spawn/user-switch.ts';
import type { ConfigFile } from './search.ts';
import type { Merged } from './merge.ts';

/** Instance-wide options that root acts on itself. */
const ROOT_ONLY_OPTIONS = ['instance_registry_dir', 'default_user', 'default_group'] as const;

function fromUntrustedFile(merged: Pick<Merged, 'values' | 'sources'>, file: ConfigFile | undefined, key: string): file is ConfigFile & { controlledBy: number } {
  return file?.controlledBy !== undefined && merged.sources[key] === file.path;
}

/** `plugins` taken from a file another user controls: root would import code of that user's choosing. */
export function refusePluginsFromUntrustedFile(merged: Pick<Merged, 'values' | 'sources'>, file: ConfigFile | undefined): void {
  if (!fromUntrustedFile(merged, file, 'plugins')) return;
  throw new PassengerError('PSG_ERR_PLUGIN_UNSAFE',
    `${file.path}: plugins: the server runs as root and ${describeUid(file.controlledBy)} controls this file, so root does not load the plugins it names; name them on the command line (--plugins) or in a root-owned file that no one else can write`,
    { file: file.path, key: 'plugins', controlledBy: file.controlledBy });
}

function refuse(file: ConfigFile & { controlledBy: number }, key: string, why: string): PassengerError {
  return new PassengerError('PSG_ERR_CONFIG_UNSAFE', `${file.path}: ${key}: ${why} (the server runs as root and ${describeUid(file.controlledBy)} controls this file)`,
    { file: file.path, key, controlledBy: file.controlledBy });
}

/** Instance-wide options root acts on, for the app that configures the instance. */
export function refuseRootOnlyOptions(merged: Pick<Merged, 'values' | 'sources'>, file: ConfigFile | undefined): void {
  for (const key of ROOT_ONLY_OPTIONS) {
    if (fromUntrustedFile(merged, file, key)) throw refuse(file, key, 'set it on the command line or in a root-owned file that no one else can write');
  }
}

/** `user` and `group` from such a file may only name the user who controls it (and one of their groups). */
export function checkIdentityOptions(merged: Pick<Merged, 'values' | 'sources'>, file: ConfigFile | undefined): void {
  if (fromUntrustedFile(merged, file, 'user')) {
    const name = String(merged.values.user);
    const u = lookupUser(/^\d+$/.test(name) ? Number(name) : name);
    if (u?.uid !== file.controlledBy) throw refuse(file, 'user', `"${name}" is not the user who controls the file, so the app may not run as that user`);
  }
  if (fromUntrustedFile(merged, file, 'group')) {
    const name = String(merged.values.group);
    const gid = /^\d+$/.test(name) ? Number(name) : lookupGroupId(name);
    const owner = lookupUser(file.controlledBy);
    if (gid === undefined || owner === undefined || !isMemberOfGroup(owner, gid)) {
      throw refuse(file, 'group', `"${name}" is not a group of the user who controls the file`);
    }
  }
}
