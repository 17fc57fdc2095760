// What the instance commands (status, stop, restart-app, nginx-config) share:
// their flags, and finding the instance and its password.
import { PassengerError } from '../../errors/passenger-error.ts';
import { registryDirFrom, selectInstance, type FoundInstance } from '../../admin/select-instance.ts';

export function checkFlags(command: string, flags: Record<string, string | boolean>, allowed: string[]): void {
  for (const name of Object.keys(flags)) {
    if (!allowed.includes(name)) {
      throw new PassengerError('PSG_ERR_USAGE', `passenger ${command} does not take --${name.replaceAll('_', '-')} (it takes ${allowed.map((a) => `--${a.replaceAll('_', '-')}`).join(', ')})`);
    }
  }
}

export function stringFlag(flags: Record<string, string | boolean>, name: string): string | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw new PassengerError('PSG_ERR_USAGE', `--${name.replaceAll('_', '-')} needs a value`);
  return v;
}

/** The instance named by --instance, or the only one, or the one serving `appDir` (default: the working directory). */
export function findInstance(flags: Record<string, string | boolean>, appDir?: string): FoundInstance {
  return selectInstance(registryDirFrom(flags), stringFlag(flags, 'instance'), { path: appDir ?? process.cwd(), explicit: appDir !== undefined });
}

export function passwordOf(found: FoundInstance, kind: 'readOnly' | 'full'): string {
  try {
    return found.dir.readPasswords()[kind];
  } catch (e) {
    throw new PassengerError('PSG_ERR_ADMIN_AUTH', `cannot read the admin password of instance ${found.dir.name} (${(e as NodeJS.ErrnoException).code ?? 'error'}): run this as the user who started it`);
  }
}
