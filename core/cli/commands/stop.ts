// `passenger stop [APP_DIR] [--instance NAME]`: asks the instance (the one
// serving APP_DIR or the working directory, when several run) to stop (admin
// API, full-access password) and waits until its directory is gone.
import { existsSync } from 'node:fs';
import { adminRequest } from '../../admin/client.ts';
import { PassengerError } from '../../errors/passenger-error.ts';
import { checkFlags, findInstance, passwordOf } from './instance-flags.ts';

const WAIT_MS = 60_000;

export async function stopCommand(appDir: string | undefined, flags: Record<string, string | boolean>): Promise<number> {
  checkFlags('stop', flags, ['instance', 'instance_registry_dir']);
  const found = findInstance(flags, appDir);
  const reply = await adminRequest(found.dir.adminSocket, passwordOf(found, 'full'), 'POST', '/stop');
  if (reply.status !== 202) throw new PassengerError('PSG_ERR_ADMIN_UNREACHABLE', `instance ${found.dir.name} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  const deadline = Date.now() + WAIT_MS;
  while (existsSync(found.dir.path)) {
    if (Date.now() > deadline) {
      process.stderr.write(`passenger stop: instance ${found.dir.name} is still stopping after ${WAIT_MS / 1000} s\n`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  process.stdout.write(`stopped instance ${found.dir.name}\n`);
  return 0;
}
