// Masks a whole error report in one pass, just before it is logged, kept for
// the page, the JSON form and the admin API. It walks every field instead of
// naming them, so a field or plugin section added later is masked too.
import type { ErrorReport } from '../errors/report.ts';
import { isSecretName, maskedValue, type SecretMasker } from './mask-secrets.ts';

function maskAny(masker: SecretMasker, value: unknown, name: string): unknown {
  if (typeof value === 'string') return masker.value(name, value);
  if (Array.isArray(value)) {
    if (value.length === 0) return value;
    if (value.every((v) => typeof v === 'string')) {
      return isSecretName(name) ? value.map((v: string) => maskedValue(v.length)) : masker.lines(value as string[]);
    }
    return value.map((v) => maskAny(masker, v, name));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = maskAny(masker, v, k);
    return out;
  }
  return value;
}

export function maskReport(report: ErrorReport, masker: SecretMasker): ErrorReport {
  return maskAny(masker, report, '') as ErrorReport;
}
