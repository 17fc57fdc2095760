// The one signal table (docs/signals.md explains it). The watchdog and the
// core give the same meaning to each signal, so it does not matter which of
// the two an operator or a service manager signals. SIGUSR1 is left alone:
// Node starts its inspector on it.
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGQUIT'] as const;

/** Reopen log files, reload certificates: what nginx does on SIGHUP, and what systemd's ExecReload sends. */
export const RELOAD_SIGNAL = 'SIGHUP';

/** To the watchdog: start the installed version on the same listening sockets, then drain and stop this one (watchdog/upgrade.ts). */
export const UPGRADE_SIGNAL = 'SIGUSR2';

/** Taken so that no one gives them another meaning; they do nothing (none at the moment). */
export const RESERVED_SIGNALS: Readonly<Record<string, string>> = {};
