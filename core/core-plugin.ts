// The core's own part of the kernel, applied like every other plugin (the
// first one, by the kernel itself): the core options of config/schema.ts and
// the two wire protocols every loader may speak. Nothing else is hard-wired.
import { definePlugin, type Plugin } from './plugin.ts';
import { coreOptions } from './config/schema.ts';
import { sessionProtocol } from './protocols/session.ts';
import { httpSessionProtocol } from './protocols/http-session.ts';
import { CORE_PLUGIN_NAME } from './registries/registry.ts';
import { Stage } from './stage.ts';

export function corePlugin(): Plugin {
  const tap = { name: CORE_PLUGIN_NAME, stage: Stage.first };
  return definePlugin({
    name: CORE_PLUGIN_NAME,
    apply(kernel) {
      kernel.hooks.registerOptions.tap(tap, (r) => { for (const def of coreOptions) r.add(def); });
      kernel.hooks.registerProtocols.tap(tap, (r) => {
        r.add(sessionProtocol);
        r.add(httpSessionProtocol);
      });
    },
  });
}
