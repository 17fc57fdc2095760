// From an AppSpec to the full SpawnCommand: the owning plugin names the
// loader (resolveLoader), the core adds what every app gets (cwd, env, user,
// handshake keys), then every plugin may adjust it (buildSpawnCommand).
import { callBuildSpawnCommand, callResolveLoader } from '../hooks.ts';
import { freePort } from './free-port.ts';
import { assignPort } from './port-loader.ts';
import { randomBytes } from 'node:crypto';
import { makePrivateDir } from '../instance/private-dir.ts';
import { join } from 'node:path';
import type { Kernel } from '../kernel.ts';
import type { AppSpec } from '../config/app-spec.ts';
import { PassengerError } from '../errors/passenger-error.ts';
import type { SpawnCommand, SpawnMethod } from './spawn-command.ts';
import { buildAppEnv } from './env.ts';
import { chooseAppUser, currentUser } from './user-switch.ts';
import { assertUserCanReach } from './assert-reachable.ts';

export interface SpawnEnvironment {
  kernel: Kernel;
  /** Private directory for app sockets (instance dir's backends/). */
  socketDir: string;
  /** A private socket directory for apps that run as another user (they cannot enter ours). */
  socketDirFor?(uid: number, gid: number): string;
  mode: 'standalone' | 'scgi';
  defaultUser: string;
  defaultGroup?: string | undefined;
  logLevel: string;
  /** `passenger detect`: describe the command only; no port is picked for a port loader. */
  describeOnly?: boolean;
}

const LOG_LEVELS: Record<string, string> = { error: '1', warn: '2', info: '3', debug: '5' };

export async function prepareSpawnCommand(env: SpawnEnvironment, app: AppSpec, method: SpawnMethod, connectPassword = randomBytes(24).toString('hex')): Promise<SpawnCommand> {
  const loader = await callResolveLoader(env.kernel.hooks, app, method);
  if (!loader) {
    throw new PassengerError('PSG_ERR_SPAWN_NO_LOADER', `no plugin knows how to start app type "${app.appType}" (${app.appRoot})`, { appRoot: app.appRoot });
  }
  const user = chooseAppUser({
    mode: app.frontEnd ?? env.mode, user: app.options.user, group: app.options.group,
    defaultUser: env.defaultUser, defaultGroup: env.defaultGroup, startupFile: app.startupFile,
  });
  const me = currentUser();
  const command: SpawnCommand = {
    command: loader.command,
    args: loader.args,
    cwd: app.appRoot,
    env: { ...buildAppEnv(app, env.kernel.options.list(), user), ...loader.env },
    handshake: {
      app_root: app.appRoot,
      startup_file: app.startupFile,
      app_type: app.appType,
      environment: app.options.environment,
      base_uri: app.options.base_uri,
      socket_dir: env.socketDir,
      connect_password: connectPassword,
      log_level: LOG_LEVELS[env.logLevel] ?? '3',
      threads: String(app.options.threads),
    },
    readiness: loader.readiness,
    user: user.name,
    startTimeoutMs: app.options.start_timeout * 1000,
  };
  if (app.options.connection_handoff && env.kernel.appTypes.get(app.appType)?.acceptsConnections) command.connectionChannel = true;
  if (user.uid !== me.uid || user.gid !== me.gid) {
    command.uid = user.uid;
    command.gid = user.gid;
    // The app creates its socket here, so it needs a private directory of its own.
    command.handshake.socket_dir = env.socketDirFor?.(user.uid, user.gid) ?? userSocketDir(env.socketDir, user.uid, user.gid);
  }
  // A port loader left the port to the core (port-loader.ts): a fresh one per spawn.
  if (command.readiness.kind === 'port' && command.readiness.port === 0 && !env.describeOnly) {
    const port = await freePort(command.readiness.host);
    command.readiness = { ...command.readiness, port };
    assignPort(command, port);
  }
  const final = await callBuildSpawnCommand(env.kernel.hooks, command, app);
  if (final.uid !== undefined && final.uid !== me.uid) assertUserCanReach(final, app);
  return final;
}

const userSocketDirs = new Map<string, string>();

/** Made once per user and base, with no-follow semantics (instance/private-dir.ts). */
function userSocketDir(base: string, uid: number, gid: number): string {
  const key = `${base}\0${uid}:${gid}`;
  let dir = userSocketDirs.get(key);
  if (dir === undefined) {
    dir = makePrivateDir(join(base, `uid-${uid}-`), 0o700, { uid, gid });
    userSocketDirs.set(key, dir);
  }
  return dir;
}
