import { Kernel } from '../core/kernel.ts';
import { createLogger } from '../core/log/logger.ts';
import { builtinPlugins } from '../plugins/index.ts';

/** A booted kernel with the built-in plugins, as `passenger run` has. */
export function bootedKernelWithBuiltins(): Kernel {
  const kernel = new Kernel(createLogger('error'));
  for (const p of builtinPlugins()) kernel.use(p);
  kernel.boot();
  return kernel;
}
