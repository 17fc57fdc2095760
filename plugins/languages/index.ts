// passenger-ts/languages: what the built-in language plugins share with any
// plugin for the same languages: interpreter choosers, shared options, and
// the error-report hint builders. The hint builders load their module on
// first use (an app failing to start), so importing this costs nothing else.
import type { ErrorContext, ErrorReport } from '../../core/index.ts';

export { choosePython, pythonOption, VIRTUALENVS, type PythonOptions } from './python.ts';

/**
 * Python hints for a failed start: a module not installed for the interpreter
 * that ran the app, a name a module lacks, the innermost line of the app's own
 * code in the traceback. Tap it: `hooks.enrichErrorReport.for(type).tapPromise(name, (r, c) => pythonHints(r, c, name))`.
 */
export async function pythonHints(report: ErrorReport, ctx: ErrorContext, plugin: string): Promise<ErrorReport> {
  return (await import('../wsgi/python-hints.ts')).pythonHints(report, ctx, plugin);
}

/** Ruby hints: Bundler problems, a require that is not in the bundle, the app's own line in the backtrace. */
export async function rubyHints(report: ErrorReport, ctx: ErrorContext, plugin: string): Promise<ErrorReport> {
  return (await import('../rack/ruby-hints.ts')).rubyHints(report, ctx, plugin);
}

/** Node.js hints: missing packages and files, ESM/CommonJS mismatches, a port in use, the app's own line. */
export async function nodeHints(report: ErrorReport, ctx: ErrorContext, plugin: string): Promise<ErrorReport> {
  return (await import('../node/node-hints.ts')).nodeHints(report, ctx, plugin);
}

