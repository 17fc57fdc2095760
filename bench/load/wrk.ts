// Runs wrk (bounded by -d) and reads its summary from a Lua done() hook that
// prints one JSON line: requests, bytes, errors and latency percentiles.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runToEnd } from '../proc/launch.ts';

export interface LoadResult {
  requests: number;
  durationSec: number;
  rps: number;
  /** Response bytes per second, MiB. */
  readMiBps: number;
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  /** Sum of the error counts above. */
  errorCount: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

export interface LoadSpec {
  url: string;
  connections: number;
  /** Seconds; wrk counts whole ones, so a fraction is reached by interrupting it (SIGINT ends its run early, summary included). */
  durationSec: number;
  /** A request body (POST) of this many bytes. */
  uploadBytes?: number;
  timeoutSec?: number;
}

const REPORT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

function uploadScript(bytes: number): string {
  return `wrk.method = "POST"
wrk.body = string.rep("u", ${bytes})
wrk.headers["Content-Type"] = "application/octet-stream"
${REPORT}`;
}

/** Writes the Lua scripts once into `dir`; returns a runner bound to them. */
export function wrkRunner(dir: string): (spec: LoadSpec) => Promise<LoadResult> {
  const getScript = join(dir, 'report.lua');
  writeFileSync(getScript, REPORT);
  const uploadScripts = new Map<number, string>();
  return async (spec) => {
    let script = getScript;
    if (spec.uploadBytes) {
      script = uploadScripts.get(spec.uploadBytes) ?? join(dir, `upload-${spec.uploadBytes}.lua`);
      if (!uploadScripts.has(spec.uploadBytes)) {
        writeFileSync(script, uploadScript(spec.uploadBytes));
        uploadScripts.set(spec.uploadBytes, script);
      }
    }
    // Two threads at most: the machine has two cores and the server needs them too.
    const threads = Math.min(2, spec.connections);
    const wholeSec = Math.max(1, Math.ceil(spec.durationSec));
    const args = ['-t', String(threads), '-c', String(spec.connections), '-d', `${wholeSec}s`,
      '--timeout', `${spec.timeoutSec ?? 10}s`, '-s', script, spec.url];
    const interruptAfterMs = spec.durationSec < wholeSec ? spec.durationSec * 1000 : undefined;
    const { code, output } = await runToEnd('wrk', args, { timeoutMs: (wholeSec + 30) * 1000, interruptAfterMs });
    const line = /WRK_JSON (\{.*\})/.exec(output);
    if (code !== 0 || !line) throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${output.slice(-2000)}`);
    const r = JSON.parse(line[1]!) as Record<string, number>;
    const durationSec = r.duration_us! / 1e6;
    const errors = { connect: r.connect!, read: r.read!, write: r.write!, timeout: r.timeout!, status: r.status! };
    return {
      requests: r.requests!,
      durationSec,
      rps: r.requests! / durationSec,
      readMiBps: r.bytes! / durationSec / 1048576,
      errors,
      errorCount: errors.connect + errors.read + errors.write + errors.timeout + errors.status,
      latencyMs: { p50: r.p50! / 1000, p90: r.p90! / 1000, p99: r.p99! / 1000, max: r.max! / 1000 },
    };
  };
}
