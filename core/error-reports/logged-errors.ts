// Which errors already have their full report in the log. An app that cannot
// start fails again on every retry (and every request after the backoff) with
// the same error: the full report (environment, limits, output: about a
// hundred lines) goes to the terminal once, repeats get one line naming the
// report to look at. Kept apart from log-report.ts so that the pool can forget
// an app's errors when it starts, without loading the report renderer.

/** Enough for every app of an instance; the oldest entries go first. */
const MAX_REMEMBERED = 200;
/** fingerprint -> id of the report that was logged in full */
const logged = new Map<string, string>();

export interface ErrorShape {
  appRoot: string;
  code: string;
  errorClass?: string | undefined;
  summary: string;
}

/** Two failures are the same error when these agree; long numbers (ports, pids) may differ. */
function fingerprint(e: ErrorShape): string {
  return [e.appRoot, e.code, e.errorClass ?? '', e.summary.replace(/\d{4,}/g, '#')].join('\0');
}

/** The id of the full report already logged for the same error, or undefined (and it is remembered as `id`). */
export function previouslyLogged(e: ErrorShape, id: string): string | undefined {
  const key = fingerprint(e);
  const first = logged.get(key);
  if (first !== undefined) return first;
  if (logged.size >= MAX_REMEMBERED) logged.delete(logged.keys().next().value!);
  logged.set(key, id);
  return undefined;
}

/** The app started: its next failure is news again and gets a full report. */
export function forgetLoggedErrors(appRoot: string): void {
  for (const key of logged.keys()) if (key.startsWith(`${appRoot}\0`)) logged.delete(key);
}
