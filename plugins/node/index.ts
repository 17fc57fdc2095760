// Node.js apps: app.js (or startup_file, or package.json "main"), CommonJS or
// ESM. The loader (helper-scripts/node-loader.cjs) makes the app's own
// server.listen() listen on a private Unix socket and reports it as http_session.
import { extname, isAbsolute, join } from 'node:path';
import type { Plugin } from '../../core/index.ts';

const NAME = 'passenger:node';
const EXTENSIONS = new Set(['.js', '.cjs', '.mjs']);

export default function node(): Plugin {
  return {
    name: NAME,
    apiVersion: 1,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        name: 'node', displayName: 'Node.js', startupFiles: ['app.js'], protocol: 'http_session', interpreterOption: 'nodejs',
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => r.add({
        name: 'nodejs', type: 'string', default: process.execPath, scope: 'app',
        doc: 'the Node.js executable that runs Node apps (default: the one running passenger)',
      }));
      kernel.hooks.detectAppType.tapPromise(NAME, async (ctx) => {
        const requested = ctx.options.app_type;
        if (requested !== undefined && requested !== 'node') return undefined;
        const abs = (f: string) => (isAbsolute(f) ? f : join(ctx.appRoot, f));
        const configured = ctx.options.startup_file;
        if (typeof configured === 'string') {
          if (requested === 'node' || EXTENSIONS.has(extname(configured))) return { appType: 'node', startupFile: abs(configured), reason: `startup_file is ${configured}` };
          return undefined;
        }
        if (await ctx.exists('app.js')) return { appType: 'node', startupFile: abs('app.js'), reason: 'found app.js' };
        const pkg = await ctx.readFile('package.json');
        if (pkg !== undefined) {
          let main: unknown;
          try { main = (JSON.parse(pkg) as { main?: unknown }).main; } catch { /* not our business to validate */ }
          if (typeof main === 'string' && await ctx.exists(main)) {
            return { appType: 'node', startupFile: abs(main), reason: `package.json "main" is ${main}` };
          }
        }
        if (requested === 'node') return { appType: 'node', startupFile: abs('app.js'), reason: 'app_type is node' };
        return undefined;
      });
      kernel.hooks.resolveLoader.tap(NAME, (app) => {
        if (app.appType !== 'node') return undefined;
        return { command: String(app.options.nodejs), args: [kernel.helperScript('node-loader.cjs')], readiness: { kind: 'handshake' } };
      });
      kernel.hooks.buildSpawnCommand.tap(NAME, (cmd, app) => {
        if (app.appType === 'node') cmd.env.NODE_ENV = app.options.envvars.NODE_ENV ?? app.options.environment;
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.tapPromise(NAME, async (report, ctx) => (await import('./node-hints.ts')).nodeHints(report, ctx, NAME));
    },
  };
}
