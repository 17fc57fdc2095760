// The interpreter chooser every language plugin needs: the option naming it
// wins, else an interpreter inside the app (a virtualenv, a vendored runtime),
// else a default command. It answers why, for `passenger detect` and reports.
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppSpec } from './config/app-spec.ts';

export interface InterpreterRule {
  /** The option that names the interpreter (a command or a path); set, it wins. */
  option: string;
  /** Executables inside the app, relative to its root, tried in order, each with why it is chosen. */
  inApp?: readonly { path: string; reason: string }[];
  /** The command used when neither. */
  fallback: string;
  /** Why the fallback was chosen (default: "default (no <option> option)"). */
  fallbackReason?: string;
}

export interface InterpreterChoice {
  command: string;
  /** Why, e.g. "virtualenv .venv/ in the app directory"; a LoaderSpec's `note`. */
  reason: string;
}

export async function chooseInterpreter(app: AppSpec, rule: InterpreterRule): Promise<InterpreterChoice> {
  const configured = app.options[rule.option];
  if (typeof configured === 'string' && configured !== '') {
    return { command: configured, reason: `${rule.option} option (${app.sources[rule.option] ?? 'set'})` };
  }
  for (const candidate of rule.inApp ?? []) {
    const path = join(app.appRoot, candidate.path);
    try {
      await access(path, constants.X_OK);
      return { command: path, reason: candidate.reason };
    } catch { /* not this one */ }
  }
  return { command: rule.fallback, reason: rule.fallbackReason ?? `default (no ${rule.option} option)` };
}
