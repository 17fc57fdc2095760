// `passenger restart-app [DIR]`: a rolling restart of one app of a running
// instance (the one serving DIR, or the working directory, when several run).
// Without DIR: the app the working directory is in, else the only app in the
// pool (several: they are listed).
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { adminRequest } from '../../admin/client.ts';
import { PassengerError } from '../../errors/passenger-error.ts';
import { checkFlags, findInstance, passwordOf } from './instance-flags.ts';
import { instancesServing } from '../../admin/select-instance.ts';
import type { StatusReply } from './status.ts';

export async function restartAppCommand(dir: string | undefined, flags: Record<string, string | boolean>): Promise<number> {
  checkFlags('restart-app', flags, ['instance', 'instance_registry_dir']);
  const found = findInstance(flags, dir);
  let appRoot: string;
  const servedHere = dir === undefined ? instancesServing([found], process.cwd()).length > 0 : false;
  if (dir !== undefined) {
    appRoot = await realpath(resolve(dir)).catch(() => resolve(dir));
  } else if (servedHere) {
    // Inside an app directory (or below it): that app.
    const here = await realpath(process.cwd());
    appRoot = found.properties.apps.filter((r) => here === r || here.startsWith(r + '/')).sort((a, b) => b.length - a.length)[0]!;
  } else {
    const status = await adminRequest<StatusReply>(found.dir.adminSocket, passwordOf(found, 'readOnly'), 'GET', '/status');
    const roots = status.body.pool.groups.map((g) => g.appRoot);
    if (roots.length !== 1) {
      throw new PassengerError('PSG_ERR_USAGE', roots.length === 0
        ? `instance ${found.dir.name} has no app in its pool yet`
        : `instance ${found.dir.name} runs ${roots.length} apps; name one: passenger restart-app DIR\n${roots.map((r) => `  ${r}`).join('\n')}`);
    }
    appRoot = roots[0]!;
  }
  const reply = await adminRequest<{ error?: string }>(found.dir.adminSocket, passwordOf(found, 'full'), 'POST', '/apps/restart', { appRoot });
  if (reply.status === 404) throw new PassengerError('PSG_ERR_ADMIN_NOT_FOUND', reply.body.error ?? `no app ${appRoot} in instance ${found.dir.name}`);
  if (reply.status !== 200) throw new PassengerError('PSG_ERR_ADMIN_UNREACHABLE', `instance ${found.dir.name} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  process.stdout.write(`restarting ${appRoot} (rolling: the running processes serve until the new ones are ready)\n`);
  return 0;
}
