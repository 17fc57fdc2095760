// Secrets recognised by their shape, whatever holds them: an app's output, an
// exception message, a command line. Each keeps a prefix that says what it was
// (sk_live_••••••, postgres://u:••••••@db), never the secret part.
import { MASK, maskedValue } from './mask-format.ts';

interface ShapeRule {
  re: RegExp;
  /** The replacement for one match (groups as in String.replace). */
  to: string | ((match: string, ...groups: string[]) => string);
}

/** A PEM private key (RSA, EC, OPENSSH, ENCRYPTED, PGP ... PRIVATE KEY [BLOCK]), up to its END line or the end of the text. */
export const PRIVATE_KEY_BEGIN = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----/;
export const PRIVATE_KEY_END = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
const PRIVATE_KEY_BLOCK = new RegExp(`${PRIVATE_KEY_BEGIN.source}([\\s\\S]*?)(-----END \\1-----|$)`, 'g');

/** A line of base64 as long as a PEM body line: key material even when its BEGIN line is gone. */
const PEM_BODY_LINE = /^[A-Za-z0-9+/]{64}$/gm;

function maskPrivateKey(_m: string, kind: string, body: string, end: string): string {
  if (body.trim() === '') return `-----BEGIN ${kind}-----${body}${end}`;
  const nl = body.includes('\n') ? '\n' : body.includes('\\n') ? '\\n' : ' ';
  return `-----BEGIN ${kind}-----${nl}${maskedValue(body.trim().length)}${end ? `${nl}${end}` : ''}`;
}

const RULES: ShapeRule[] = [
  { re: PRIVATE_KEY_BLOCK, to: maskPrivateKey },
  { re: PEM_BODY_LINE, to: (m) => maskedValue(m.length) },
  // scheme://user:password@host: the password may itself hold an @, the host may not.
  { re: /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s/@]+(?:@[^\s/@]+)*)@/gi, to: (_m, head: string, pw: string) => (pw === MASK ? _m : `${head}${MASK}@`) },
  // Stripe (sk_live_, pk_test_, rk_live_) and its webhook secrets.
  { re: /\b((?:sk|pk|rk)_(?:live|test)_)[A-Za-z0-9]{8,}/g, to: `$1${MASK}` },
  { re: /\b(whsec_)[A-Za-z0-9]{16,}/g, to: `$1${MASK}` },
  // GitHub tokens (classic and fine-grained).
  { re: /\b(gh[pousr]_)[A-Za-z0-9]{20,}/g, to: `$1${MASK}` },
  { re: /\b(github_pat_)[A-Za-z0-9_]{20,}/g, to: `$1${MASK}` },
  // Slack tokens.
  { re: /\b(xox[abposre]-)[A-Za-z0-9-]{8,}/g, to: `$1${MASK}` },
  // AWS access key IDs (long-term AKIA, temporary ASIA, ...).
  { re: /\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g, to: `$1${MASK}` },
  // Google API keys.
  { re: /\b(AIza)[0-9A-Za-z_-]{35}/g, to: `$1${MASK}` },
  // JSON Web Tokens: header.payload.signature, the first two base64url JSON.
  { re: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, to: `eyJ${MASK}` },
  // HTTP credentials: Bearer tokens, and Basic ones (base64, so with a digit, + / or =: "Basic authentication" stays).
  { re: /\b(Bearer|bearer|BEARER)(\s+)[A-Za-z0-9._~+/=-]{8,}/g, to: `$1$2${MASK}` },
  { re: /\b(Basic|basic)(\s+)(?=[A-Za-z+/]*[0-9+/=])[A-Za-z0-9+/]{8,}={0,2}/g, to: `$1$2${MASK}` },
];

/**
 * What every rule above needs somewhere in the text; one scan that fails for
 * almost every log line, so an app's output costs little to mask.
 */
const ANY_SHAPE = /:\/\/|-----BEGIN|_(?:live|test)_|whsec_|gh[pousr]_|github_pat_|xox[abposre]-|A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA|Iza)|eyJ|[Bb]earer|BEARER|[Bb]asic/;

export function maskShapes(text: string): string {
  // A lone PEM body line is 64 characters: a single line of another length cannot be one.
  const mayHoldPemLine = text.length === 64 || (text.length > 64 && text.includes('\n'));
  if (!mayHoldPemLine && !ANY_SHAPE.test(text)) return text;
  let out = text;
  for (const rule of RULES) {
    rule.re.lastIndex = 0;
    out = typeof rule.to === 'string' ? out.replace(rule.re, rule.to) : out.replace(rule.re, rule.to);
  }
  return out;
}
