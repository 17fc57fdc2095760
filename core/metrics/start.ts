// Wires the observability pieces for a core whose metrics_address is set:
// the collector taps the hooks before the first request, the listener
// serves them. Without metrics_address none of this is loaded, and the
// request hooks stay untapped.
import type { Kernel } from '../kernel.ts';
import type { Pool } from '../pool/pool.ts';
import { version } from '../paths.ts';
import { MetricsCollector } from './collector.ts';
import { Exposition } from './exposition.ts';
import { MetricsListener } from './listener.ts';

export interface MetricsInit {
  address: string;
  instanceName: string;
  readOnlyPassword: string;
  coreRestarts: number;
}

export function createMetricsListener(kernel: Kernel, pool: Pool, init: MetricsInit): MetricsListener {
  const collector = new MetricsCollector(kernel, pool);
  const exposition = new Exposition({ collector, pool, coreRestarts: init.coreRestarts });
  return new MetricsListener({
    address: init.address, pool, exposition, readOnlyPassword: init.readOnlyPassword, log: kernel.log,
    status: { pool, collector, instanceName: init.instanceName, version },
  });
}
