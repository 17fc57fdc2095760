// max_pool_size when it is not configured: what fits in the container.
// CPU quota × the app type's processes per CPU (a process that waits on
// I/O a lot, one request at a time, needs more than one per CPU to keep it
// busy), capped by the memory limit ÷ the app type's typical process RSS
// (measured, docs/deploy.md), after leaving room for the server itself.
// Without limits: the long-standing default, 6.
import type { ContainerLimits } from './container-limits.ts';

export const DEFAULT_POOL_SIZE = 6;
/** What the watchdog and the core take (RSS measured under load: about 60 + 50 MiB). */
export const SERVER_RESERVE_BYTES = 128 * 2 ** 20;
export const DEFAULT_PROCESSES_PER_CPU = 1;
export const DEFAULT_PROCESS_MEMORY_MIB = 100;

export interface PoolSizing {
  size: number;
  /** One line that says how, for detect, status and the log. */
  how: string;
}

export function derivePoolSize(limits: ContainerLimits, appType: { name: string; processesPerCpu?: number | undefined; processMemoryMiB?: number | undefined }): PoolSizing {
  const perCpu = appType.processesPerCpu ?? DEFAULT_PROCESSES_PER_CPU;
  const perProcess = (appType.processMemoryMiB ?? DEFAULT_PROCESS_MEMORY_MIB) * 2 ** 20;
  if (limits.cpus === undefined && limits.memoryBytes === undefined) {
    return { size: DEFAULT_POOL_SIZE, how: `default ${DEFAULT_POOL_SIZE} (no cgroup CPU quota or memory limit)` };
  }
  const parts: string[] = [];
  let size = DEFAULT_POOL_SIZE;
  if (limits.cpus !== undefined) {
    size = Math.max(1, Math.ceil(limits.cpus * perCpu));
    parts.push(`CPU quota ${round(limits.cpus)} × ${perCpu} per CPU (${appType.name}) = ${size}`);
  } else {
    parts.push(`no CPU quota: default ${DEFAULT_POOL_SIZE}`);
  }
  if (limits.memoryBytes !== undefined) {
    const fits = Math.max(1, Math.floor((limits.memoryBytes - SERVER_RESERVE_BYTES) / perProcess));
    const capped = fits < size;
    parts.push(`memory limit ${mib(limits.memoryBytes)} − ${mib(SERVER_RESERVE_BYTES)} for the server, ÷ ${mib(perProcess)} per process = ${fits}${capped ? ' (the cap)' : ''}`);
    size = Math.min(size, fits);
  }
  return { size, how: `${size} from cgroup v${limits.cgroupVersion}: ${parts.join('; ')}` };
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20)} MiB`;
}
