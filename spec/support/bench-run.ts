// Runs `bench/run.ts` (the bench's CLI) from this checkout with the given
// arguments, collecting its output, for the specs of the bench itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './passenger.ts';

/** `started` gets the process, so that a spec whose timeout cut the run off can stop it. */
export function runBench(args: string[], started?: (child: ChildProcess) => void): Promise<{ code: number | null; log: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench/run.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    started?.(child);
    let log = '';
    child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    child.on('close', (code) => resolve({ code, log }));
  });
}
