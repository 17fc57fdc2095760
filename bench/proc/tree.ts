// The processes a server runs, read from /proc: who descends from whom, what
// each one's command line is, how much memory it holds (RSS) and how much CPU
// time it has used.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  cmdline: string;
  rssBytes: number;
  /** The part of RSS that is its own (anonymous memory), without the file pages it shares, such as its binary's code. */
  privateBytes: number;
  /** User + system CPU time of all its threads since it started (clock-tick resolution). */
  cpuSec: number;
}

let clockTicks: number | undefined;

/** Clock ticks per second, the unit of /proc/PID/stat's CPU times; read once. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      clockTicks = n > 0 ? n : 100;
    } catch {
      clockTicks = 100; // USER_HZ on every Linux architecture we run on
    }
  }
  return clockTicks;
}

function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    // fields[0] is field 3 of proc(5): ppid is field 4, utime and stime fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const cpuSec = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    const anon = /RssAnon:\s+(\d+) kB/.exec(status);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replaceAll('\0', ' ');
    return { pid, ppid, cmdline, rssBytes: rss ? Number(rss[1]) * 1024 : 0, privateBytes: anon ? Number(anon[1]) * 1024 : 0, cpuSec };
  } catch {
    return undefined; // exited while we looked, or a kernel thread
  }
}

/** Proportional set size (smaps_rollup): read for one process at a time, since the kernel walks its page tables for it. */
export function pssBytes(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined; // exited, or a kernel without smaps_rollup
  }
}

export function allProcesses(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProc(Number(name));
    if (info) out.push(info);
  }
  return out;
}

/** The roots and everything below them that is still running. */
export function processTree(roots: readonly number[]): ProcInfo[] {
  const all = allProcesses();
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of all) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p); else byParent.set(p.ppid, [p]);
  }
  const seen = new Set<number>();
  const out: ProcInfo[] = [];
  const visit = (p: ProcInfo) => {
    if (seen.has(p.pid)) return;
    seen.add(p.pid);
    out.push(p);
    for (const child of byParent.get(p.pid) ?? []) visit(child);
  };
  for (const pid of roots) {
    const p = all.find((x) => x.pid === pid);
    if (p) visit(p);
  }
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
