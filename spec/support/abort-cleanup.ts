// Cleanup that must happen however the spec runner ends: mocha's after
// hooks do not run when the runner is interrupted (Ctrl-C, a CI timeout's
// SIGTERM), and what a spec made outside its own process tree (network
// namespaces, veth pairs, a daemonised nginx) would outlive it. Each
// registered step runs synchronously once, on exit or on the first
// interrupting signal, after which the signal takes its default course.
const steps = new Set<() => void>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function runAll(): void {
  for (const step of [...steps]) {
    steps.delete(step);
    try { step(); } catch { /* best effort: the next step still runs */ }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

let installed = false;

/** Registers a synchronous cleanup step; the returned function unregisters it (call it once the normal cleanup ran). */
export function onAbort(step: () => void): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', runAll);
    for (const s of SIGNALS) process.on(s, onSignal);
  }
  steps.add(step);
  return () => { steps.delete(step); };
}
