// Generic apps: any command that listens on $PORT (Passenger's
// app_start_command). The command runs under /bin/sh with PORT set to a free
// port; the app is ready when that port accepts connections.
import { definePlugin, portLoader, type Plugin } from '../../core/index.ts';
import { Stage } from '../../core/index.ts';

const NAME = 'passenger:generic';

export default function generic(): Plugin {
  return definePlugin({
    name: NAME,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        name: 'generic', displayName: 'Generic (app_start_command)', startupFiles: [], protocol: 'http_session',
      }));
      // app_start_command wins over every startup file, as in Passenger.
      kernel.hooks.detectAppType.tapPromise({ name: NAME, stage: Stage.first }, async (ctx) => {
        const command = ctx.options.app_start_command;
        if (typeof command !== 'string' || command.trim() === '') return undefined;
        if (ctx.options.app_type !== undefined && ctx.options.app_type !== 'generic') return undefined;
        return { appType: 'generic', startupFile: ctx.appRoot, reason: 'app_start_command is set' };
      });
      kernel.hooks.resolveLoader.for('generic').tapPromise(NAME, async (app) => {
        const command = app.options.app_start_command;
        if (!command) return undefined;
        // The core picks the port at each spawn and sets PORT, which the shell expands.
        return portLoader({ command: '/bin/sh', args: ['-c', command] });
      });
      kernel.hooks.buildSpawnCommand.for('generic').tap(NAME, (cmd, app) => {
        cmd.env.NODE_ENV ??= app.options.environment;
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.for('generic').tapPromise(NAME, async (report, ctx) => (await import('./port-hints.ts')).portHints(report, ctx, NAME));
    },
  });
}
