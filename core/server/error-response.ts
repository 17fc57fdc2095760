// Maps a failure on the request path to the response the client gets.
// Each failure has one status code (docs/lifecycle.md).
import { isPassengerError, describeError } from '../errors/passenger-error.ts';
import type { ErrorCode } from '../errors/codes.ts';
import { AppFailedError } from '../pool/group.ts';
import type { AppSpec } from '../config/app-spec.ts';
import type { FrontRequest, FrontResponse } from './front.ts';
import { renderReportHtml, renderGenericHtml } from '../error-reports/render-html.ts';
import { PAGE_CSP } from '../error-reports/page-template.ts';
import { noteError } from './observed-response.ts';

const STATUS: Partial<Record<ErrorCode, [number, string]>> = {
  PSG_ERR_POOL_QUEUE_FULL: [503, 'Service Unavailable'],
  PSG_ERR_POOL_SHUTTING_DOWN: [503, 'Service Unavailable'],
  PSG_ERR_POOL_QUEUE_TIMEOUT: [504, 'Gateway Timeout'],
  PSG_ERR_REQUEST_TIMEOUT: [504, 'Gateway Timeout'],
  PSG_ERR_APP_RESPONSE: [502, 'Bad Gateway'],
  PSG_ERR_APP_CONNECT: [502, 'Bad Gateway'],
  PSG_ERR_POOL_APP_FAILED: [500, 'Internal Server Error'],
  PSG_ERR_HTTP_BAD_REQUEST: [400, 'Bad Request'],
  PSG_ERR_HTTP_BODY_TOO_LARGE: [413, 'Content Too Large'],
  PSG_ERR_HTTP_NOT_IMPLEMENTED: [501, 'Not Implemented'],
  PSG_ERR_HTTP_VERSION: [505, 'HTTP Version Not Supported'],
  PSG_ERR_HTTP_BODY_TIMEOUT: [408, 'Request Timeout'],
};

function wantsJson(req: FrontRequest): boolean {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'accept') continue;
    // A browser lists text/html first; an API client asks for JSON.
    const value = raw[i + 1]!;
    const json = value.indexOf('application/json');
    const htmlAt = value.indexOf('text/html');
    return json >= 0 && (htmlAt < 0 || json < htmlAt);
  }
  return false;
}

/** Full reports only where the app's configuration asks for them: they show paths, output and environment. */
function friendly(app: AppSpec | undefined): boolean {
  if (!app) return false;
  return app.options.friendly_error_pages ?? app.options.environment === 'development';
}

export function sendError(req: FrontRequest, res: FrontResponse, error: unknown, app?: AppSpec): void {
  if (res.headersSent) { res.abort(); return; }
  const code = isPassengerError(error) ? error.code : undefined;
  noteError(res, code);
  const [status, reason] = (code && STATUS[code]) ?? [500, 'Internal Server Error'];
  const headers = ['Cache-Control', 'no-store', 'X-Content-Type-Options', 'nosniff'];
  if (status === 503) headers.push('Retry-After', '1');
  // The rest of the body will not be read: the connection cannot carry another request.
  if (status === 413 || status === 408) headers.push('Connection', 'close');
  let body: string;
  if (error instanceof AppFailedError) {
    const report = error.report;
    const show = friendly(app);
    if (wantsJson(req)) {
      body = JSON.stringify(show ? report : { error: 'the application could not be started', errorId: report.id });
      headers.push('Content-Type', 'application/json');
    } else {
      body = show ? renderReportHtml(report) : renderGenericHtml(status, 'The application could not be started', report.id);
      headers.push('Content-Type', 'text/html; charset=utf-8', 'Content-Security-Policy', PAGE_CSP);
    }
  } else if (wantsJson(req)) {
    body = JSON.stringify({ error: describeError(error), code: code ?? 'PSG_ERR_INTERNAL' });
    headers.push('Content-Type', 'application/json');
  } else {
    body = `${status} ${reason}: ${describeError(error)}\n`;
    headers.push('Content-Type', 'text/plain; charset=utf-8');
  }
  const bytes = Buffer.from(body, 'utf8');
  headers.push('Content-Length', String(bytes.length));
  res.writeHead(status, reason, headers);
  if (req.method !== 'HEAD') res.write(bytes);
  res.end();
}
