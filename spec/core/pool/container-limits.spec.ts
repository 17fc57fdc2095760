// Container limits from both cgroup versions, read from cgroup trees laid out
// as the kernel lays them out (v2 cannot be mounted on these v1 machines, so
// its files are written by hand here), and the pool size derived from them.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readContainerLimits } from '../../../core/pool/container-limits.ts';
import { derivePoolSize } from '../../../core/pool/pool-size.ts';

describe('container limits (cgroup v1 and v2)', () => {
  let dir: string;
  const write = (rel: string, text: string) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'psg-cgroup-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('v2: cpu.max and memory.max, the tightest along the path up', () => {
    write('proc-cgroup', '0::/kubepods/pod1/ctr\n');
    write('fs/kubepods/cpu.max', 'max 100000\n');
    write('fs/kubepods/memory.max', '1073741824\n');
    write('fs/kubepods/pod1/ctr/cpu.max', '150000 100000\n');
    write('fs/kubepods/pod1/ctr/memory.max', 'max\n');
    const limits = readContainerLimits({ root: join(dir, 'fs'), procCgroup: join(dir, 'proc-cgroup') });
    expect(limits).to.include({ cpus: 1.5, memoryBytes: 1073741824, cgroupVersion: 2 });
    expect(limits.sources).to.deep.equal([join(dir, 'fs/kubepods/pod1/ctr/cpu.max'), join(dir, 'fs/kubepods/memory.max')]);
  });

  it('v1: cfs quota over period, memory.limit_in_bytes; "no limit" values are ignored', () => {
    write('proc-cgroup', '4:memory:/app\n2:cpu,cpuacct:/app\n0::/\n');
    write('fs/cpu,cpuacct/app/cpu.cfs_quota_us', '50000\n');
    write('fs/cpu,cpuacct/app/cpu.cfs_period_us', '100000\n');
    write('fs/memory/app/memory.limit_in_bytes', '9223372036854771712\n');
    write('fs/memory/memory.limit_in_bytes', '9223372036854771712\n');
    const limits = readContainerLimits({ root: join(dir, 'fs'), procCgroup: join(dir, 'proc-cgroup') });
    expect(limits).to.deep.include({ cpus: 0.5, cgroupVersion: 1 });
    expect(limits.memoryBytes).to.equal(undefined);
  });

  it('derives max_pool_size: CPU quota × per-CPU factor, capped by memory', () => {
    expect(derivePoolSize({ sources: [], cgroupVersion: undefined }, { name: 'node' }).size).to.equal(6);
    expect(derivePoolSize({ cpus: 2, sources: [], cgroupVersion: 2 }, { name: 'rack', processesPerCpu: 2 }).size).to.equal(4);
    const capped = derivePoolSize({ cpus: 4, memoryBytes: 512 * 2 ** 20, sources: [], cgroupVersion: 1 }, { name: 'rack', processesPerCpu: 2, processMemoryMiB: 100 });
    // (512 - 128) / 100 = 3 processes fit, below the 8 the CPUs would take.
    expect(capped.size).to.equal(3);
    expect(capped.how).to.equal('3 from cgroup v1: CPU quota 4 × 2 per CPU (rack) = 8; memory limit 512 MiB − 128 MiB for the server, ÷ 100 MiB per process = 3 (the cap)');
  });
});
