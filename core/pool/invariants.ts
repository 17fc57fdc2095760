// What must hold in a group between two scheduling steps (Passenger's
// ApplicationPool2 checks the like in verifyInvariants). A group checks them
// after each step when its pool was made with `verifyInvariants` (the specs
// do); in production the check costs one boolean test per step.
import type { AppProcess } from './app-process.ts';

/** What the invariants read of a process. */
export type ProcessState = Pick<AppProcess, 'pid' | 'enabled' | 'life' | 'sessions' | 'concurrency' | 'retireReason'>;

/** A group's state, as the invariants see it. */
export interface GroupState {
  name: string;
  processes: readonly ProcessState[];
  queueLength: number;
  spawning: number;
  /** Sessions handed out and not yet closed, on any process (also ones gone since). */
  openSessions: number;
  /** The process the next request would get, if any (the router's answer). */
  routable: ProcessState | undefined;
}

/** Every broken invariant, in words; empty when all hold. */
export function groupInvariantViolations(s: GroupState): string[] {
  const broken: string[] = [];
  const fail = (what: string) => broken.push(`${s.name}: ${what}`);
  if (s.spawning !== 0 && s.spawning !== 1) fail(`${s.spawning} spawns at once (at most one per group)`);
  if (s.queueLength < 0) fail(`negative queue length ${s.queueLength}`);
  // One list with a status each: "the enabled, disabling and disabled lists are disjoint" means no process twice.
  const pids = new Set<number>();
  let listedSessions = 0;
  for (const p of s.processes) {
    const it = `process ${p.pid} (${p.enabled}, ${p.life}, ${p.sessions} sessions)`;
    if (pids.has(p.pid)) fail(`${it} is listed twice`);
    pids.add(p.pid);
    if (p.enabled === 'detached') fail(`${it} is detached but still listed`);
    if (p.life === 'dead') fail(`${it} has exited but is still listed`);
    if (!Number.isInteger(p.sessions) || p.sessions < 0) fail(`${it} has an impossible session count`);
    if (p.concurrency > 0 && p.sessions > p.concurrency) fail(`${it} has more sessions than its concurrency ${p.concurrency}`);
    if (p.enabled === 'enabled' && p.retireReason !== undefined) fail(`${it} is enabled but has a retire reason (${p.retireReason})`);
    if (p.enabled !== 'enabled' && p.retireReason === undefined) fail(`${it} takes no new requests but has no retire reason`);
    // Retired processes are stopped as soon as they are idle: an idle one must already be stopping.
    if (p.enabled !== 'enabled' && p.sessions === 0 && p.life === 'alive') fail(`${it} is idle and retired but was not told to stop`);
    listedSessions += p.sessions;
  }
  if (listedSessions > s.openSessions) fail(`its processes count ${listedSessions} sessions but only ${s.openSessions} are open (a session was released twice?)`);
  if (s.openSessions < 0) fail(`negative open session count ${s.openSessions}`);
  // A request waits only while no process could take it.
  if (s.queueLength > 0 && s.routable) fail(`${s.queueLength} request(s) queued while process ${s.routable.pid} has a free slot`);
  return broken;
}

/** Throws an Error listing every broken invariant. */
export function assertGroupInvariants(s: GroupState): void {
  const broken = groupInvariantViolations(s);
  if (broken.length > 0) throw new Error(`pool invariants broken:\n  ${broken.join('\n  ')}`);
}
