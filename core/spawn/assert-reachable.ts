// The check of access-check.ts for one spawn: the app directory, the startup
// file, the command and the loader's script arguments, for the user the app
// will run as. A failure is the app's error report, with the blocking path
// and the chmod that fixes it (PSG_ERR_SPAWN_ACCESS_DENIED).
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { AppSpec } from '../config/app-spec.ts';
import type { SpawnCommand } from './spawn-command.ts';
import { AccessChecker, fileArguments, type Blocked } from './access-check.ts';
import { SpawnFailure } from './spawn-failure.ts';
import { lookupUser } from './user-switch.ts';

const isFile = (p: string) => { try { return statSync(p).isFile(); } catch { return false; } };

function firstBlocked(cmd: SpawnCommand, app: AppSpec): Blocked | undefined {
  const checker = new AccessChecker({ name: cmd.user, uid: cmd.uid!, gid: cmd.gid ?? cmd.uid! });
  const checks: (() => Blocked | undefined)[] = [
    () => checker.check(cmd.cwd, 'x', `the app directory ${cmd.cwd}`),
    () => (isFile(app.startupFile) ? checker.check(app.startupFile, 'r', `the startup file ${app.startupFile}`) : undefined),
    () => (isAbsolute(cmd.command) ? checker.check(cmd.command, 'x', `the command ${cmd.command}`) : undefined),
    ...fileArguments(cmd.args).map((f) => () => checker.check(f, 'r', `${f}, which the process loads`)),
    // Where the app creates its socket: below the instance registry (instance_registry_dir).
    () => (cmd.handshake.socket_dir ? checker.check(cmd.handshake.socket_dir, 'x', `the app's socket directory ${cmd.handshake.socket_dir}`) : undefined),
  ];
  for (const c of checks) {
    const b = c();
    if (b) return b;
  }
  return undefined;
}

export function assertUserCanReach(cmd: SpawnCommand, app: AppSpec): void {
  const b = firstBlocked(cmd, app);
  if (!b) return;
  const owner = lookupUser(b.owner)?.name ?? String(b.owner);
  const entering = b.need === 'x' && !b.purpose.startsWith('the command');
  const verb = b.need === 'r' ? 'read' : entering ? 'enter' : 'execute';
  const summary = `the app runs as user ${cmd.user}, who cannot ${verb} ${b.path} (mode ${b.mode}, owner ${owner}): it is ${b.purpose}`;
  throw new SpawnFailure('PSG_ERR_SPAWN_ACCESS_DENIED', {
    summary, category: 'os', detail: '', output: [], command: cmd,
    properties: { blocked_path: b.path, needed: b.need === 'x' ? 'search/execute (x)' : 'read (r)', app_user: cmd.user },
    journey: [{ name: 'check_access', state: 'failed' }, { name: 'spawn', state: 'not_reached' }],
    hints: [{
      title: `Let ${cmd.user} ${verb} ${b.path}`,
      body: [
        `The app runs as \`${cmd.user}\`, which needs to ${verb} \`${b.path}\` (${b.purpose}), but its mode is ${b.mode} (owner ${owner}, group ${b.group}). Every directory above the app and above passenger's helper scripts must be searchable by the user an app runs as, and the files it loads readable.`,
        `Grant it with the command below; or move the app (or passenger) to a directory that user can reach, for example under /srv or /opt rather than /root; or run the app as a user who can reach it (the \`user\` option).`,
      ].join('\n\n'),
      command: b.fix,
      plugin: 'passenger',
    }],
  });
}
