// Runs a tool's own checker on a file we generated (`nginx -t`, `systemd-analyze
// verify`), for the --check flag of nginx-config and systemd-unit. execa is
// loaded here only, by a short-lived CLI command: never by the core. It gives
// the time limit (SIGKILL after it), the interleaved output, and a message
// saying how a command that failed ended (not found, exit code, signal, timeout).
export interface CheckResult {
  ok: boolean;
  /** The checker's output (stdout and stderr, interleaved), trimmed. */
  output: string;
  /** How it ended, when it failed: execa's short message ("Command failed with exit code 1: nginx -t ..."). */
  failure?: string;
}

export async function runChecker(command: string, args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CheckResult> {
  const { execa } = await import('execa');
  const r = await execa(command, args, {
    cwd: opts.cwd, stdin: 'ignore', all: true, reject: false, timeout: opts.timeoutMs ?? 20000, forceKillAfterDelay: 1000,
  });
  const output = (r.all ?? '').trim();
  return r.failed ? { ok: false, output, failure: (r.shortMessage ?? 'failed').split('\n')[0]! } : { ok: true, output };
}
