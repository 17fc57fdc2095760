// Builds the ErrorReport for a failed spawn, lets plugins enrich it, masks
// its secrets, and writes it to the log (once per failure: this runs once per
// failed spawn).
import { callEnrichErrorReport } from '../hooks.ts';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { freemem, loadavg, totalmem, uptime } from 'node:os';
import type { Kernel } from '../kernel.ts';
import type { Logger } from '../log/logger.ts';
import type { AppSpec } from '../config/app-spec.ts';
import { SpawnFailure } from '../spawn/spawn-failure.ts';
import { isPassengerError } from '../errors/passenger-error.ts';
import type { ErrorReport } from '../errors/report.ts';
import { currentUser } from '../spawn/user-switch.ts';
import { logErrorReport } from './log-report.ts';
import { maskReport } from './mask-report.ts';
import { secretMaskerFor } from '../spawn/command-secrets.ts';

export { maskEnvironment } from './mask-secrets.ts';

function readUlimits(): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1)) {
      const m = /^(Max [\w ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
      if (m) out[m[1]!.replace(/^Max /, '')] = m[2] === m[3] ? m[2]! : `${m[2]} (hard ${m[3]})`;
    }
  } catch { /* not Linux */ }
  return out;
}

export function newErrorId(): string {
  return randomBytes(5).toString('hex');
}

/** `log` is where the text report goes: the group's logger, else the kernel's with the app's name. */
export async function buildErrorReport(kernel: Kernel, app: AppSpec, error: unknown, log: Logger = kernel.log.child(`[${app.name}]`)): Promise<ErrorReport> {
  const f = error instanceof SpawnFailure ? error.failure : undefined;
  const cmd = f?.command;
  const me = currentUser();
  const masker = secretMaskerFor(cmd, app);
  const report: ErrorReport = {
    id: newErrorId(),
    code: isPassengerError(error) ? error.code : 'PSG_ERR_SPAWN_FAILED',
    category: f?.category ?? (isPassengerError(error) && error.code.startsWith('PSG_ERR_CONFIG') ? 'config' : 'internal'),
    summary: f?.summary ?? (error instanceof Error ? error.message : String(error)),
    detail: f?.detail ?? (error instanceof Error && !isPassengerError(error) ? error.stack ?? '' : ''),
    output: f?.output ?? [],
    appRoot: app.appRoot,
    appName: app.name,
    appType: app.appType,
    appTypeName: kernel.appTypes.get(app.appType)?.displayName ?? app.appType,
    command: cmd ? [cmd.command, ...cmd.args] : [],
    cwd: cmd?.cwd ?? app.appRoot,
    user: { name: cmd?.user ?? me.name, uid: cmd?.uid ?? me.uid, gid: cmd?.gid ?? me.gid },
    // The environment the app was started with (after every buildSpawnCommand tap), not the server's.
    environment: masker.environment(cmd?.env ?? {}),
    ulimits: readUlimits(),
    system: {
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
      freeMemoryMiB: Math.round(freemem() / 2 ** 20),
      totalMemoryMiB: Math.round(totalmem() / 2 ** 20),
      uptimeS: Math.round(uptime()),
    },
    journey: f?.journey ?? [],
    properties: f?.properties ?? {},
    hints: [],
    sections: [],
    createdAt: new Date().toISOString(),
  };
  if (f?.errorClass) report.errorClass = f.errorClass;
  if (f?.hints) report.hints.push(...f.hints);
  if (f?.exit) report.exit = f.exit;
  const enriched = await callEnrichErrorReport(kernel.hooks, report, { app, output: report.output, ...(f?.errorClass ? { errorClass: f.errorClass } : {}) });
  // Once, here, before anything shows it: the page, the JSON form, the log, the admin API
  // all get this masked copy, with what plugins added (hints, sections) masked too.
  const masked = maskReport(enriched, masker);
  logErrorReport(log, masked);
  return masked;
}
