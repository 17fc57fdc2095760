// Hosts simulated with Linux network namespaces (root only): each gets a
// veth pair, with a private test address inside the namespace and the
// next one on the root side, so a process in the root namespace (nginx)
// reaches each "host" over a real network interface. Names carry the
// spec runner's PID, so parallel runs never share one; removeHosts()
// kills whatever still runs inside and deletes the namespaces and links,
// and runs by itself if the spec runner is interrupted (abort-cleanup.ts).
import { execFileSync } from 'node:child_process';
import { onAbort } from './abort-cleanup.ts';

/** Hosts not removed yet, for the cleanup on an interrupted run. */
const live = new Set<SimulatedHost>();
let abortRegistered = false;

export interface SimulatedHost {
  /** The namespace's name (ip netns exec NAME ...). */
  ns: string;
  /** The host's address, inside the namespace. */
  address: string;
  /** The root namespace's address on the same link (where the host sees nginx come from). */
  peerAddress: string;
  /** The root side of the veth pair. */
  link: string;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The command prefix that runs a program inside the host's namespace (ip execs it: the PID stays). */
export function inHost(host: SimulatedHost): string[] {
  return ['ip', 'netns', 'exec', host.ns];
}

/** `count` hosts on 10.213.X.0/24 networks chosen from the runner's PID (private test addresses, only on these links). */
export function createHosts(count: number, tag = 'psg'): SimulatedHost[] {
  const id = process.pid % 100_000;
  const base = (process.pid % 80) * 3;
  const hosts: SimulatedHost[] = [];
  if (!abortRegistered) {
    abortRegistered = true;
    onAbort(() => removeHosts([...live]));
  }
  try {
    for (let i = 0; i < count; i++) {
      const ns = `${tag}-${process.pid}-${i}`;
      const link = `${tag.slice(0, 3)}${id}r${i}`;
      const inner = `${tag.slice(0, 3)}${id}n${i}`;
      const net = `10.213.${base + i}`;
      const host: SimulatedHost = { ns, address: `${net}.2`, peerAddress: `${net}.1`, link };
      hosts.push(host);
      live.add(host);
      ip('netns', 'add', ns);
      ip('link', 'add', link, 'type', 'veth', 'peer', 'name', inner);
      ip('link', 'set', inner, 'netns', ns);
      ip('addr', 'add', `${host.peerAddress}/24`, 'dev', link);
      ip('link', 'set', link, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'addr', 'add', `${host.address}/24`, 'dev', inner);
      ip('-n', ns, 'link', 'set', inner, 'up');
    }
  } catch (e) {
    removeHosts(hosts);
    throw e;
  }
  return hosts;
}

/** PIDs of the processes running in the host's namespace. */
export function pidsIn(host: SimulatedHost): number[] {
  try {
    return ip('netns', 'pids', host.ns).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Kills what still runs in each namespace (by PID), then deletes the namespaces and links. Safe to call twice. */
export function removeHosts(hosts: SimulatedHost[]): void {
  for (const host of hosts) {
    live.delete(host);
    for (const pid of pidsIn(host)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
    }
    try { ip('netns', 'del', host.ns); } catch { /* not there */ }
    // Deleting the namespace deletes its end of the pair, and with it ours; this covers a half-made pair.
    try { ip('link', 'del', host.link); } catch { /* gone with the namespace */ }
  }
}
