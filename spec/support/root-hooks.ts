// Root hooks for every spec file: processes started by a spec carry a token in
// their environment (inherited through every spawn, even after re-parenting),
// so after each spec we can find any that were left behind, fail, and end them.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

const token = randomBytes(8).toString('hex');
process.env.PASSENGER_SPEC_TOKEN = token;

/** PIDs (other than this process) whose environment carries this run's token. */
export function leftoverProcesses(): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (!environ.includes(`PASSENGER_SPEC_TOKEN=${token}`)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // zombie awaiting its parent's wait()
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ').trim();
      // tsx's esbuild service belongs to the test runner itself, not to a spec.
      if (cmd.includes('@esbuild/') && cmd.includes('--service')) continue;
      found.push({ pid, cmd });
    } catch {
      // the process exited while we looked, or is not ours to read
    }
  }
  return found;
}

async function waitForNoLeftovers(ms: number): Promise<{ pid: number; cmd: string }[]> {
  const deadline = Date.now() + ms;
  let left = leftoverProcesses();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftoverProcesses();
  }
  return left;
}

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(15000);
    const left = await waitForNoLeftovers(5000);
    if (left.length === 0) return;
    for (const p of left) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    throw new Error(`processes left behind by this spec file:\n${left.map((p) => `  ${p.pid} ${p.cmd}`).join('\n')}`);
  },
};
