// The access log as a built-in tap on requestFinished: with access_log off
// (the default outside development) nothing is tapped, so requests pay
// nothing for it (server/observed-response.ts builds no event untapped).
import type { Kernel } from '../kernel.ts';
import { formatCombined, formatDev, formatJson } from './access-format.ts';
import { openLogWriter } from './log-file.ts';

export interface AccessLogSettings {
  /** access_log: a file, `-`, `off`, or unset. */
  path: string | undefined;
  format: 'combined' | 'json';
  /** The command-line app's environment: unset means a short terminal line in development. */
  environment: string;
  appRoot: string;
}

/** Taps the access log when one is wanted; says where it goes, or undefined. */
export function startAccessLog(kernel: Kernel, s: AccessLogSettings): string | undefined {
  if (s.path === 'off' || (s.path === undefined && s.environment !== 'development')) return undefined;
  const writer = openLogWriter(s.path ?? '-', 'access_log', s.appRoot);
  const format = s.path === undefined ? 'dev' : s.format;
  const tap = format === 'dev'
    ? (e: Parameters<typeof formatDev>[0]) => writer.write(formatDev(e))
    : format === 'json'
      ? (e: Parameters<typeof formatJson>[0]) => writer.write(formatJson(e, Date.now()))
      : (e: Parameters<typeof formatCombined>[0]) => writer.write(formatCombined(e, Date.now()));
  kernel.hooks.requestFinished.tap('passenger:access-log', tap);
  return writer.path === '-' ? 'stdout' : writer.path;
}
