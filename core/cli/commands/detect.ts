// `passenger detect [DIR]`: what `run` would do with this directory, and why.
import { callResolveLoader } from '../../hooks.ts';
import type { Plugin } from '../../plugin.ts';
import { bootForApp } from '../../instance/boot.ts';
import { prepareSpawnCommand } from '../../spawn/prepare.ts';
import { createLogger } from '../../log/logger.ts';
import { tmpdir } from 'node:os';
import { poolSizing } from '../../instance/pool-sizing.ts';

export async function detectCommand(builtins: Plugin[], appDir: string, flags: Record<string, string | boolean>, json: boolean): Promise<number> {
  const { kernel, app, configFile } = await bootForApp({ builtins, appDir, flags, env: process.env, log: createLogger('error') });
  const type = kernel.appTypes.get(app.appType)!;
  const o = app.options as Record<string, unknown>;
  // As the spawner decides: a preloader where the app type has one and spawn_method is smart.
  const method = app.options.spawn_method === 'smart' && type.hasPreloader ? 'smart' : 'direct';
  const cmd = await prepareSpawnCommand({ kernel, socketDir: tmpdir(), mode: 'standalone', defaultUser: String(o.default_user), logLevel: 'info', describeOnly: true }, app, method, '(generated per process)');
  // The loader command's program is the interpreter the plugin chose (a virtualenv's python, say), and the plugin may say why.
  const interpreter = type.interpreterOption ? cmd.command : undefined;
  const note = (await callResolveLoader(kernel.hooks, app, method))?.note;
  const sizing = poolSizing(app, type);
  const result = {
    appRoot: app.appRoot,
    appType: app.appType,
    displayName: type.displayName,
    plugin: type.owner ?? 'core',
    startupFile: app.startupFile,
    reason: app.detectReason,
    protocol: cmd.readiness.kind === 'port' ? cmd.readiness.protocol : type.protocol,
    spawnMethod: method,
    loader: [cmd.command, ...cmd.args],
    interpreter: interpreter ?? null,
    interpreterSource: type.interpreterOption ? note ?? app.sources[type.interpreterOption] ?? 'default' : null,
    threads: type.supportsThreads ? app.options.threads : null,
    // 0: a port loader's port, picked at each spawn (detect picks none: it starts nothing and holds nothing).
    port: cmd.readiness.kind === 'port' ? cmd.readiness.port : null,
    user: cmd.user,
    environment: app.options.environment,
    configFile: configFile?.path ?? null,
    plugins: kernel.plugins.map((p) => p.name),
    deprecations: app.deprecations ?? [],
    maxPoolSize: sizing.size,
    poolSizing: sizing.how,
  };
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  }
  const rows: [string, string][] = [
    ['app root', result.appRoot],
    ['app type', `${result.appType} (${result.displayName}), from plugin ${result.plugin}`],
    ['startup file', result.startupFile],
    ['why', result.reason],
    ['protocol', result.protocol],
    ['loader', `${result.loader.join(' ')} (${method === 'smart' ? 'preloader: smart spawning' : 'direct spawning'})`],
  ];
  if (type.interpreterOption) rows.push(['interpreter', `${result.interpreter} (${type.interpreterOption}: ${result.interpreterSource})`]);
  if (cmd.readiness.kind === 'port') rows.push(['port', cmd.readiness.port === 0 ? 'a free one, picked at each spawn ($PORT)' : String(cmd.readiness.port)]);
  rows.push(['threads', type.supportsThreads ? `${app.options.threads} per process`
    : `1 (the app type's loader does not support threads${app.options.threads > 1 ? `; threads: ${app.options.threads} has no effect` : ''})`]);
  rows.push(['runs as', result.user], ['environment', result.environment], ['config file', result.configFile ?? '(none)'], ['plugins', result.plugins.join(', ')], ['max pool size', sizing.how]);
  for (const d of result.deprecations) rows.push(['deprecated', d]);
  const width = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write(rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n');
  return 0;
}
