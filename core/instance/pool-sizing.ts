// max_pool_size for an instance: as configured, or derived from the
// container's limits (pool/pool-size.ts) when no one set it.
import type { AppSpec } from '../config/app-spec.ts';
import type { AppTypeDescriptor } from '../registries/app-types.ts';
import { readContainerLimits } from '../pool/container-limits.ts';
import { derivePoolSize, type PoolSizing } from '../pool/pool-size.ts';

export function poolSizing(app: AppSpec, type: AppTypeDescriptor | undefined): PoolSizing {
  const source = app.sources.max_pool_size;
  if (source !== undefined && source !== 'default') {
    const size = Number(app.options.max_pool_size);
    return { size, how: `${size} (max_pool_size from ${source})` };
  }
  return derivePoolSize(readContainerLimits(), { name: app.appType, processesPerCpu: type?.processesPerCpu, processMemoryMiB: type?.processMemoryMiB });
}
