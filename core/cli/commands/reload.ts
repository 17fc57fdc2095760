// `passenger reload [APP_DIR] [--instance NAME]`: SIGHUP to the instance's
// watchdog (the one serving APP_DIR or the working directory, when several
// run), which reopens the log files and reloads the TLS certificate
// (docs/signals.md). The PID comes from the live instance's admin API rather
// than its properties file, so a stale file never gets another process signalled.
import { adminRequest } from '../../admin/client.ts';
import { PassengerError } from '../../errors/passenger-error.ts';
import { RELOAD_SIGNAL } from '../../signals.ts';
import { checkFlags, findInstance, passwordOf } from './instance-flags.ts';
import type { StatusReply } from './status.ts';

export async function reloadCommand(appDir: string | undefined, flags: Record<string, string | boolean>): Promise<number> {
  checkFlags('reload', flags, ['instance', 'instance_registry_dir']);
  const found = findInstance(flags, appDir);
  const reply = await adminRequest<StatusReply>(found.dir.adminSocket, passwordOf(found, 'full'), 'GET', '/status');
  const pid = reply.body?.instance?.watchdogPid;
  if (reply.status !== 200 || typeof pid !== 'number') {
    throw new PassengerError('PSG_ERR_ADMIN_UNREACHABLE', `instance ${found.dir.name} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  }
  process.kill(pid, RELOAD_SIGNAL);
  process.stdout.write(`sent ${RELOAD_SIGNAL} to instance ${found.dir.name} (watchdog ${pid}): log files reopened, TLS certificate reloaded\n`);
  return 0;
}
