// Node.js apps: startup_file, or package.json "main", or what "scripts.start"
// runs, or index.js, server.js or app.js (detect.ts); CommonJS or ESM. The
// loader (helper-scripts/node-loader.cjs) makes the app's own server.listen()
// listen on a private Unix socket and reports it as http_session.
import { definePlugin, type Plugin } from '../../core/index.ts';
import { CONVENTIONAL_FILES, detectNode, LOOKED_FOR } from './detect.ts';

const NAME = 'passenger:node';

export default function node(): Plugin {
  return definePlugin({
    name: NAME,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        name: 'node', processesPerCpu: 1, processMemoryMiB: 90, displayName: 'Node.js', startupFiles: CONVENTIONAL_FILES, lookedFor: LOOKED_FOR, protocol: 'http_session', interpreterOption: 'nodejs',
        // helper-scripts/node-loader.cjs serves connections handed over its IPC channel (connection_handoff).
        acceptsConnections: true,
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => r.add({
        name: 'nodejs', type: 'string', default: process.execPath, scope: 'app',
        doc: 'the Node.js executable that runs Node apps (default: the one running passenger)',
      }));
      kernel.hooks.detectAppType.tapPromise(NAME, detectNode);
      kernel.hooks.resolveLoader.for('node').tap(NAME, (app) => {
        return { command: String(app.options.nodejs), args: [kernel.helperScript('node-loader.cjs')], readiness: { kind: 'handshake' } };
      });
      kernel.hooks.buildSpawnCommand.for('node').tap(NAME, (cmd, app) => {
        cmd.env.NODE_ENV = app.options.envvars.NODE_ENV ?? app.options.environment;
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.for('node').tapPromise(NAME, async (report, ctx) => (await import('./node-hints.ts')).nodeHints(report, ctx, NAME));
    },
  });
}
