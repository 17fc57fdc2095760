// The CPU and memory limits of the cgroup this process runs in (Kubernetes,
// docker, systemd's MemoryMax=/CPUQuota=). Both cgroup versions: v2, the
// unified hierarchy of current distributions and Kubernetes nodes
// (cpu.max, memory.max), and v1, one hierarchy per controller
// (cpu.cfs_quota_us / cpu.cfs_period_us, memory.limit_in_bytes). A limit
// set on an ancestor cgroup binds too, so the whole path up is read and
// the tightest limit wins.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ContainerLimits {
  /** CPUs the quota allows (1.5 for "150000 100000"); undefined: no quota. */
  cpus?: number;
  memoryBytes?: number;
  /** Which files said so, for `passenger detect` and the logs. */
  sources: string[];
  cgroupVersion: 1 | 2 | undefined;
}

/** v1 writes "no limit" as the largest page-aligned 64-bit number; anything this large is no limit. */
const NO_LIMIT_ABOVE = 2 ** 60;

function read(path: string): string | undefined {
  try { return readFileSync(path, 'utf8').trim(); } catch { return undefined; }
}

/** "/a/b/c" -> ["/a/b/c", "/a/b", "/a", "/"] */
function selfAndAncestors(path: string): string[] {
  const out: string[] = [];
  let p = path.replace(/\/+$/, '') || '/';
  for (;;) {
    out.push(p);
    if (p === '/') return out;
    p = p.slice(0, p.lastIndexOf('/')) || '/';
  }
}

interface Found { value: number; source: string }

function tightest(found: Found[]): Found | undefined {
  return found.reduce<Found | undefined>((best, f) => (best === undefined || f.value < best.value ? f : best), undefined);
}

function readV2(root: string, path: string): ContainerLimits {
  const cpu: Found[] = [];
  const mem: Found[] = [];
  for (const p of selfAndAncestors(path)) {
    const dir = join(root, p);
    const cpuMax = read(join(dir, 'cpu.max'))?.split(/\s+/);
    if (cpuMax && cpuMax[0] !== 'max' && Number(cpuMax[0]) > 0 && Number(cpuMax[1]) > 0) cpu.push({ value: Number(cpuMax[0]) / Number(cpuMax[1]), source: join(dir, 'cpu.max') });
    const memMax = read(join(dir, 'memory.max'));
    if (memMax && memMax !== 'max' && Number(memMax) > 0) mem.push({ value: Number(memMax), source: join(dir, 'memory.max') });
  }
  return limitsFrom(2, tightest(cpu), tightest(mem));
}

function readV1(root: string, paths: Map<string, string>): ContainerLimits {
  const cpu: Found[] = [];
  const mem: Found[] = [];
  const cpuPath = paths.get('cpu');
  // The cpu controller is mounted alone (cpu) or with cpuacct (cpu,cpuacct); try both names.
  for (const mount of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
    if (cpuPath === undefined) break;
    for (const p of selfAndAncestors(cpuPath)) {
      const dir = join(root, mount, p);
      const quota = Number(read(join(dir, 'cpu.cfs_quota_us')));
      const period = Number(read(join(dir, 'cpu.cfs_period_us')));
      if (quota > 0 && period > 0) cpu.push({ value: quota / period, source: join(dir, 'cpu.cfs_quota_us') });
    }
    if (cpu.length > 0) break;
  }
  const memPath = paths.get('memory');
  if (memPath !== undefined) {
    for (const p of selfAndAncestors(memPath)) {
      const dir = join(root, 'memory', p);
      const limit = Number(read(join(dir, 'memory.limit_in_bytes')));
      if (limit > 0 && limit < NO_LIMIT_ABOVE) mem.push({ value: limit, source: join(dir, 'memory.limit_in_bytes') });
    }
  }
  return limitsFrom(1, tightest(cpu), tightest(mem));
}

function limitsFrom(version: 1 | 2, cpu: Found | undefined, mem: Found | undefined): ContainerLimits {
  return {
    ...(cpu ? { cpus: cpu.value } : {}),
    ...(mem ? { memoryBytes: mem.value } : {}),
    sources: [cpu?.source, mem?.source].filter((s): s is string => s !== undefined),
    cgroupVersion: version,
  };
}

/**
 * Reads the limits of process `pid` (default: this one). `root` is where
 * the cgroup file systems are mounted (/sys/fs/cgroup).
 */
export function readContainerLimits(opts: { root?: string; procCgroup?: string } = {}): ContainerLimits {
  const root = opts.root ?? '/sys/fs/cgroup';
  const text = read(opts.procCgroup ?? '/proc/self/cgroup');
  if (text === undefined) return { sources: [], cgroupVersion: undefined };
  // Lines are "ID:CONTROLLERS:PATH"; v2's single line is "0::PATH".
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3];
    else for (const c of m[2]!.split(',')) v1.set(c, m[3]!);
  }
  // A v1 machine still lists "0::/" (the hybrid's empty unified tree): v1 controllers win when present.
  if (v1.has('memory') || v1.has('cpu')) return readV1(root, v1);
  if (v2 !== undefined) return readV2(root, v2);
  return { sources: [], cgroupVersion: undefined };
}
