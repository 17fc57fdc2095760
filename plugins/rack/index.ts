// Ruby Rack apps (config.ru), loaded by helper-scripts/rack-loader.rb and
// served over the session protocol.
import { definePlugin, type Plugin } from '../../core/index.ts';
import { detectByStartupFile } from '../../core/index.ts';

const NAME = 'passenger:rack';
const RACK = { name: 'rack', startupFiles: ['config.ru'] };

export default function rack(): Plugin {
  return definePlugin({
    name: NAME,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        ...RACK, processesPerCpu: 2, processMemoryMiB: 60, displayName: 'Ruby (Rack)', protocol: 'session', interpreterOption: 'ruby', hasPreloader: true, supportsThreads: true,
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => {
        r.add({ name: 'ruby', type: 'string', default: 'ruby', scope: 'app', doc: 'the Ruby interpreter for Rack apps: a command on PATH or a path' });
        r.add({
          name: 'batch_scheduling', type: 'boolean', default: true, scope: 'app',
          doc: "run Rack app processes under Linux's SCHED_BATCH, so a request handed to them does not preempt the core on a busy CPU (measurements: docs/architecture.md)",
        });
      });
      kernel.hooks.detectAppType.tapPromise(NAME, detectByStartupFile(RACK));
      kernel.hooks.resolveLoader.for('rack').tap(NAME, (app, method) => ({
        command: String(app.options.ruby),
        args: [kernel.helperScript(method === 'smart' ? 'rack-preloader.rb' : 'rack-loader.rb')],
        readiness: { kind: 'handshake' },
      }));
      kernel.hooks.buildSpawnCommand.for('rack').tap(NAME, (cmd, app) => {
        cmd.env.RACK_ENV = app.options.environment;
        cmd.env.RAILS_ENV = app.options.environment;
        cmd.handshake.batch_scheduling = String(app.options.batch_scheduling);
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.for('rack').tapPromise(NAME, async (report, ctx) => (await import('./ruby-hints.ts')).rubyHints(report, ctx, NAME));
    },
  });
}
