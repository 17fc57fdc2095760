// Ruby Rack apps (config.ru), loaded by helper-scripts/rack-loader.rb and
// served over the session protocol.
import type { Plugin } from '../../core/index.ts';
import { detectByStartupFile } from '../../core/index.ts';

const NAME = 'passenger:rack';
const RACK = { name: 'rack', startupFiles: ['config.ru'] };

export default function rack(): Plugin {
  return {
    name: NAME,
    apiVersion: 1,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        ...RACK, processesPerCpu: 2, processMemoryMiB: 60, displayName: 'Ruby (Rack)', protocol: 'session', interpreterOption: 'ruby', hasPreloader: true,
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => {
        r.add({ name: 'ruby', type: 'string', default: 'ruby', scope: 'app', doc: 'the Ruby interpreter for Rack apps: a command on PATH or a path' });
        r.add({
          name: 'batch_scheduling', type: 'boolean', default: true, scope: 'app',
          doc: "run Rack app processes under Linux's SCHED_BATCH, so a request handed to them does not preempt the core on a busy CPU (2 CPUs, 32 connections: 10-33 % more throughput and a lower p99; one connection: 0-15 % slower)",
        });
      });
      kernel.hooks.detectAppType.tapPromise(NAME, detectByStartupFile(RACK));
      kernel.hooks.resolveLoader.tap(NAME, (app, method) => app.appType !== 'rack' ? undefined : {
        command: String(app.options.ruby),
        args: [kernel.helperScript(method === 'smart' ? 'rack-preloader.rb' : 'rack-loader.rb')],
        readiness: { kind: 'handshake' },
      });
      kernel.hooks.buildSpawnCommand.tap(NAME, (cmd, app) => {
        if (app.appType !== 'rack') return cmd;
        cmd.env.RACK_ENV = app.options.environment;
        cmd.env.RAILS_ENV = app.options.environment;
        cmd.handshake.batch_scheduling = String(app.options.batch_scheduling);
        return cmd;
      });
      // Loaded when an app fails to start, the only time hints are needed.
      kernel.hooks.enrichErrorReport.tapPromise(NAME, async (report, ctx) => (await import('./ruby-hints.ts')).rubyHints(report, ctx, NAME));
    },
  };
}
