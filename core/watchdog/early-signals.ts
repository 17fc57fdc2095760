// Stop signals that arrive before the real handlers are installed (while the
// configuration is read, plugins load and the app is detected, which can
// take seconds). Without this, a SIGTERM during start-up would kill the
// process with the default action, before it could clean up or say why.
import { STOP_SIGNALS } from '../signals.ts';

export interface EarlySignals {
  /** The first stop signal caught so far, if any. */
  readonly caught: NodeJS.Signals | undefined;
  /** Removes the early handlers (call it after installing the real ones, so there is no gap). */
  release(): void;
}

/** `onSignal`: what to do at once (by default only remember it). */
export function catchEarlyStopSignals(onSignal?: (signal: NodeJS.Signals) => void): EarlySignals {
  let caught: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    caught ??= signal;
    onSignal?.(signal);
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return {
    get caught() { return caught; },
    release() { for (const s of STOP_SIGNALS) process.removeListener(s, handler); },
  };
}
