// A tagged template that escapes every interpolated value unless it is
// already SafeHtml. Error pages show text an app printed, so escaping is the
// default and markup has to be asked for.

/** Markup that was built by `html` (or escaped), and may be inserted as is. */
export class SafeHtml {
  readonly value: string;
  constructor(value: string) { this.value = value; }
  toString(): string { return this.value; }
}

type Interpolation = SafeHtml | string | number | undefined | null | false | readonly Interpolation[];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function render(v: Interpolation): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/**
 * Plain text with `backticks` shown as code: hints are written as text (the
 * log shows them too) and this is the only markup they get.
 */
export function textWithCode(text: string): SafeHtml {
  const parts = text.split('`');
  // An unpaired backtick stays literal.
  if (parts.length % 2 === 0) return html`${text}`;
  return html`${parts.map((p, i) => (i % 2 === 1 ? html`<code>${p}</code>` : p))}`;
}

/** Paragraphs separated by blank lines; single newlines become line breaks. */
export function paragraphs(text: string): SafeHtml {
  return html`${text.split(/\n\s*\n/).map((para) =>
    html`<p>${para.split('\n').map((line, i) => html`${i > 0 ? html`<br>` : ''}${textWithCode(line)}`)}</p>`)}`;
}
