// Error reports are shown in browsers, written to logs and served by the admin
// API, so no secret may appear in them. A SecretMasker knows the secret values
// of one app (those of its variables whose names say they are secret) and
// masks them, secret-looking values by shape, and `name=value` pairs whose name
// says secret, in any text.
import { isSecretName } from './secret-names.ts';
import { maskShapes, PRIVATE_KEY_BEGIN, PRIVATE_KEY_END } from './secret-shapes.ts';
import { isMasked, maskedValue } from './mask-format.ts';

export { MASK, isMasked, maskedValue } from './mask-format.ts';
export { isSecretName } from './secret-names.ts';

/**
 * A known secret is masked wherever it appears, so it must not be a word that
 * appears elsewhere too ("development", "true"): only values that look random.
 */
function looksRandom(v: string): boolean {
  if (v.length < 6 || isMasked(v)) return false;
  if (v.length >= 16) return true;
  return (/\d/.test(v) && /[a-z]/i.test(v)) || (/[a-z]/.test(v) && /[A-Z]/.test(v)) || /[^\w\s./:-]/.test(v);
}

/** The parts of a secret value worth looking for on their own: each line, and a URL's user and password. */
function secretParts(value: string): string[] {
  const urls = [...value.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s:/@]*)(?::([^\s/@]+(?:@[^\s/@]+)*))?@/gi)];
  // A URL with credentials keeps its scheme and host readable: only the credentials are secret.
  const parts = urls.length ? [] : [value, ...value.split(/\r?\n|\\n/)];
  for (const m of urls) {
    parts.push(m[1]!, m[2] ?? '');
    for (const p of [m[1]!, m[2] ?? '']) {
      try { parts.push(decodeURIComponent(p)); } catch { /* not percent-encoded */ }
    }
  }
  // A PEM's BEGIN and END lines say what it is: the shape rule masks what is between them.
  return parts.map((p) => p.trim()).filter((p) => looksRandom(p) && !/^-----(?:BEGIN|END) /.test(p));
}

/** `NAME=value`, `name: value`, `"name": "value"`, `--name=value`, `name => 'value'`, `?name=value&`. */
const NAME_VALUE = /(["']?)\b([A-Za-z][A-Za-z0-9_.-]*)\1(\s*(?:=>|[=:])\s*)(["']?)([^\s"'`,;&<>(){}[\]]+)/g;
/** Values that are not secrets whatever their name says: references and placeholders. */
const NOT_A_VALUE = /^(?:\$|%|\{|<|-----|\*+$|null$|nil$|none$|true$|false$|undefined$)/i;
/** In text, `KeyError: ...` and `AuthenticationError: ...` are exception classes, not secrets. */
const CLASS_NAME = /(?:error|exception|warning)$/i;
/** `session_store.rb:12` and `auth.js:3:9` in a backtrace are a file and a line. */
const SOURCE_FILE = /\.(?:rb|py|pyc|js|mjs|cjs|ts|tsx|jsx|erb|haml|slim|ya?ml|json|php|go|java|kt|rs|c|cc|cpp|h|ex|exs|pl|pm|lua|sh|toml|ini|conf|cfg|html|vue|svelte|so|ru)$/i;

/** A quick test for a name that could be secret, before the slower NAME_VALUE scan: most log lines have none. */
const SECRETISH = /pass|pwd|secret|token|key|cred|dsn|auth|priv|cookie|session|jwt|sk|pk|ur[il]/i;

function maskNamedValues(text: string): string {
  if (!SECRETISH.test(text)) return text;
  return text.replace(NAME_VALUE, (m, q: string, name: string, sep: string, vq: string, value: string) => {
    if (!isSecretName(name) || CLASS_NAME.test(name) || SOURCE_FILE.test(name) || value.includes('•') || NOT_A_VALUE.test(value)) return m;
    if (sep === ':' && /^\d+$/.test(value)) return m; // file:line
    return `${q}${name}${q}${sep}${vq}${maskedValue(value.length)}`;
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class SecretMasker {
  readonly #known: RegExp | undefined;
  readonly #values: readonly string[];

  /** `environments`: the variables whose secret-named values are masked wherever they appear; `values`: more such values. */
  constructor(environments: readonly Record<string, string | undefined>[] = [], values: readonly string[] = []) {
    const known = new Set<string>();
    for (const env of environments) {
      for (const [k, v] of Object.entries(env)) if (v && isSecretName(k)) for (const p of secretParts(v)) known.add(p);
    }
    for (const v of values) if (looksRandom(v)) known.add(v);
    // Longest first, so a value is masked whole before a part of it is.
    const sorted = [...known].sort((a, b) => b.length - a.length);
    this.#values = sorted;
    this.#known = sorted.length ? new RegExp(sorted.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  /** Any text: shapes first (they keep a telling prefix), then known values, then `name=value` pairs. */
  text(text: string): string {
    let out = maskShapes(text);
    // includes() per value is much faster than the alternation when none is there, the usual case.
    if (this.#known && this.#values.some((v) => out.includes(v))) out = out.replace(this.#known, (m) => maskedValue(m.length));
    return maskNamedValues(out);
  }

  /** A value named `name`: masked whole when the name says secret. */
  value(name: string, value: string): string {
    if (isMasked(value)) return value;
    return isSecretName(name) ? maskedValue(value.length) : this.text(value);
  }

  environment(env: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) out[k] = this.value(k, v);
    return out;
  }

  /** Lines as one text, so a private key spread over several lines is masked whole. */
  lines(lines: readonly string[]): string[] {
    return this.text(lines.join('\n')).split('\n');
  }

  /** For a stream of lines (an app's output going to the log): remembers being inside a private key. */
  lineByLine(): (line: string) => string {
    let inKey = false;
    return (line) => {
      if (inKey) {
        if (!PRIVATE_KEY_END.test(line)) return maskedValue(line.length);
        inKey = false;
      } else if (PRIVATE_KEY_BEGIN.test(line) && !PRIVATE_KEY_END.test(line)) {
        inKey = true;
      }
      return this.text(line);
    };
  }
}

/** Masks an environment on its own: by names, shapes and the secret values it holds itself. */
export function maskEnvironment(env: Record<string, string>): Record<string, string> {
  return new SecretMasker([env]).environment(env);
}
