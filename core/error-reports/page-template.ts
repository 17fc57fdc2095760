// The HTML document around every error page. The Content-Security-Policy
// allows inline styles and nothing else: even a page that somehow carried
// markup from an app could not run a script or load a resource.
import { html, SafeHtml } from './html.ts';
import { PAGE_STYLE } from './page-style.ts';

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

// Our own stylesheet is the one trusted string; escaping would break its quotes.
const STYLE = new SafeHtml(PAGE_STYLE);

export function pageDocument(title: string, body: SafeHtml): string {
  return html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${PAGE_CSP}">
<meta name="robots" content="noindex,nofollow">
<title>${title}</title>
<style>${STYLE}</style>
</head><body>
${body}
</body></html>
`.value;
}
