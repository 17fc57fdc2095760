// Counts how often a loader's threads wake up while the core reads responses
// the loader has already written, over one kept-alive session connection.
// Reading bytes off a Unix socket frees them, and the kernel then tells the
// writer's side there is room again: a thread blocked in read(2) on that
// socket is woken by this (it shares the wait queue, and a blocking read
// does not say which event it waits for), finds nothing and sleeps again.
// A loader that waits for its next head in poll(2) sleeps through it.
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { sessionHead, type LoaderRun } from './loader-driver.ts';

interface ThreadCounts { sleeping: boolean; switches: number }

/** Whether every thread of the process sleeps, and their context switches in all. */
function threadCounts(pid: number): ThreadCounts {
  let sleeping = true;
  let switches = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
      // The state follows the command name, which is in parentheses and may contain spaces.
      if (stat[stat.lastIndexOf(')') + 2] !== 'S') sleeping = false;
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s*(\d+)$/gm)) switches += Number(m[1]);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return { sleeping, switches };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every thread sleeps and none switched for a while; returns the switch count then. */
async function quiescent(pid: number): Promise<number> {
  const deadline = Date.now() + 5000;
  let last = threadCounts(pid);
  for (;;) {
    await sleep(20);
    const now = threadCounts(pid);
    if (now.sleeping && last.sleeping && now.switches === last.switches) return now.switches;
    if (Date.now() > deadline) throw new Error(`loader ${pid} did not settle (still switching or running)`);
    last = now;
  }
}

/**
 * Sends `requests` kept-alive requests one after another. The response to each
 * is left unread until the loader has gone back to sleep; the loader's context
 * switches are counted across reading it. Returns their total.
 */
export async function wakeupsWhileResponsesAreRead(run: Pick<LoaderRun, 'socketPath' | 'password' | 'child'>, vars: Record<string, string>, requests: number): Promise<number> {
  const pid = run.child.pid!;
  let received = 0;
  let closed = false;
  // Reads into our own buffer, so that pause() stops the reads at once (net otherwise reads ahead).
  const sock = net.connect({ path: run.socketPath, onread: { buffer: Buffer.alloc(64 * 1024), callback: (n: number) => { received += n; return true; } } });
  sock.on('close', () => { closed = true; });
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); });
  const request = sessionHead({ PASSENGER_CONNECT_PASSWORD: run.password, PASSENGER_KEEP_ALIVE: '1', ...vars });
  let wakeups = 0;
  try {
    for (let i = 0; i < requests; i++) {
      sock.pause();
      const before = received;
      sock.write(request);
      const asleep = await quiescent(pid);
      sock.resume();
      const deadline = Date.now() + 5000;
      while (received === before) {
        if (closed || Date.now() > deadline) throw new Error(`no response to request ${i + 1} (connection ${closed ? 'closed' : 'silent'})`);
        await sleep(5);
      }
      wakeups += (await quiescent(pid)) - asleep;
    }
  } finally {
    sock.destroy();
  }
  return wakeups;
}
