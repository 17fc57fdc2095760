// What the HTML page and the text report both show, worked out once: step
// labels, the exit line, and the caps that keep a page light while the JSON
// and the log keep everything.
import type { ErrorReport, JourneyStep } from '../errors/report.ts';

/** Output lines shown on the page and in the log; the JSON report has all of them. */
export const OUTPUT_LINES_SHOWN = 150;
/** Error detail lines shown (backtraces of deep stacks go on for a while). */
export const DETAIL_LINES_SHOWN = 200;
/** Longest line shown; longer ones are cut with an ellipsis. */
export const LINE_CHARS_SHOWN = 1000;

const STEP_LABELS: Record<string, string> = {
  spawn: 'Start the process',
  handshake: 'Loader handshake',
  load_app: 'Load the application',
  listen: 'Listen on $PORT',
  ready: 'Ready for requests',
};

export function stepLabel(step: JourneyStep): string {
  return STEP_LABELS[step.name] ?? step.name.replaceAll('_', ' ');
}

export function stepState(step: JourneyStep): string {
  if (step.state === 'done') return 'done';
  if (step.state === 'failed') return 'failed';
  return 'not reached';
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function formatUptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}

export function failedStep(r: ErrorReport): JourneyStep | undefined {
  return r.journey.find((s) => s.state === 'failed');
}

export function exitText(exit: ErrorReport['exit']): string | undefined {
  if (!exit) return undefined;
  if (exit.signal) return `killed by signal ${exit.signal}`;
  if (exit.code === null) return undefined;
  return `exited with code ${exit.code}`;
}

/** A shell-ready rendering of the command, quoting what needs it. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

function cutLine(line: string): string {
  return line.length > LINE_CHARS_SHOWN ? `${line.slice(0, LINE_CHARS_SHOWN)}…` : line;
}

export interface ShownLines {
  lines: string[];
  /** Lines left out to keep the page light. */
  omitted: number;
}

/**
 * The last lines of the app's output: the end is where it stopped. The loader's
 * error detail is part of the output stream too; it is shown once, as the detail.
 */
export function shownOutput(r: ErrorReport): ShownLines {
  const own = withoutTrailingDetail(r.output, detailLines(r));
  const omitted = Math.max(0, own.length - OUTPUT_LINES_SHOWN);
  return { lines: own.slice(omitted).map(cutLine), omitted };
}

function detailLines(r: ErrorReport): string[] {
  const trimmed = r.detail.replace(/\s+$/, '');
  return trimmed === '' ? [] : trimmed.split('\n');
}

function withoutTrailingDetail(output: readonly string[], detail: readonly string[]): readonly string[] {
  if (detail.length === 0 || detail.length > output.length) return output;
  const start = output.length - detail.length;
  // The output keeps only the start of very long lines (spawn/output-lines.ts), so compare starts.
  const same = detail.every((line, i) => {
    const kept = output[start + i]!.replace(/…$/, '');
    return line.startsWith(kept) && (kept.length === line.length || output[start + i]!.endsWith('…'));
  });
  return same ? output.slice(0, start) : output;
}

/** Loader-reported properties, without those the report already shows as fields. */
export function shownProperties(r: ErrorReport): [string, string][] {
  return sortedEntries(r.properties).filter(([k]) => !SHOWN_AS_FIELDS.has(k));
}

const SHOWN_AS_FIELDS = new Set(['error_class', 'summary', 'html']);

/** The first lines of the detail: the message and the innermost frames come first. */
export function shownDetail(r: ErrorReport): ShownLines {
  const all = detailLines(r);
  return { lines: all.slice(0, DETAIL_LINES_SHOWN).map(cutLine), omitted: Math.max(0, all.length - DETAIL_LINES_SHOWN) };
}

export function sortedEntries(record: Record<string, string>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function systemFacts(r: ErrorReport): [string, string][] {
  const s = r.system;
  return [
    ['Load average (1, 5, 15 min)', s.loadAverage.join(', ')],
    ['Free memory', `${s.freeMemoryMiB} MiB of ${s.totalMemoryMiB} MiB`],
    ['Uptime', formatUptime(s.uptimeS)],
  ];
}
