// CPU time per request: the user + system time a server's processes used
// during one load run, divided by the requests wrk completed. Unlike wall-clock
// throughput it hardly depends on what else the machine runs, and it shows
// which process (core or app) a server spends its time in.
import type { LoadResult } from '../load/wrk.ts';
import { processTree, type ProcInfo } from '../proc/tree.ts';
import type { RunningServer } from '../targets/target.ts';
import type { CpuFigures } from './figures.ts';

/** CPU seconds by PID, per role. */
interface CpuSnapshot {
  core: ProcInfo | undefined;
  apps: Map<number, number>;
  others: Map<number, number>;
}

const byPid = (list: readonly ProcInfo[]) => new Map(list.map((p) => [p.pid, p.cpuSec]));
const us = (sec: number, requests: number) => Math.round((sec / requests) * 1e7) / 10;

function snapshot(server: RunningServer): CpuSnapshot {
  const roles = server.classify(processTree(server.roots()));
  return { core: roles.core, apps: byPid(roles.apps), others: byPid(roles.others) };
}

/** CPU seconds used between the snapshots by the processes present in both (a PID seen once is not counted). */
function used(before: Map<number, number>, after: Map<number, number>): { sec: number; matched: number } {
  let sec = 0;
  let matched = 0;
  for (const [pid, end] of after) {
    const start = before.get(pid);
    if (start === undefined) continue;
    sec += end - start;
    matched++;
  }
  return { sec, matched };
}

function perRequest(before: CpuSnapshot, after: CpuSnapshot, requests: number): CpuFigures {
  const sameCore = before.core !== undefined && after.core !== undefined && before.core.pid === after.core.pid;
  const core = sameCore ? after.core!.cpuSec - before.core!.cpuSec : null;
  const apps = used(before.apps, after.apps);
  const others = used(before.others, after.others);
  return {
    coreUs: core === null ? null : us(core, requests),
    appsUs: us(apps.sec, requests),
    othersUs: us(others.sec, requests),
    totalUs: us((core ?? 0) + apps.sec + others.sec, requests),
    appProcesses: apps.matched,
  };
}

/** Runs one load and reads the server's CPU time just before and just after it. */
export async function withCpu(server: RunningServer, run: () => Promise<LoadResult>): Promise<{ load: LoadResult; cpu: CpuFigures }> {
  const before = snapshot(server);
  const load = await run();
  const after = snapshot(server);
  // No requests, no figure: dividing by zero would print nonsense.
  if (load.requests === 0) throw new Error('wrk completed no requests, so there is no CPU time per request');
  return { load, cpu: perRequest(before, after, load.requests) };
}
