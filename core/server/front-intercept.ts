// What the built-in engine answers itself, before a request goes to the
// pool: the redirect to HTTPS (ssl_redirect) and files from public/.
import type http from 'node:http';
import type { AppSpec } from '../config/app-spec.ts';
import type { StaticFiles } from './static/static-files.ts';
import { redirectToHttps } from './tls/https-redirect.ts';

/** true: the request was answered. */
export type FrontIntercept = (req: http.IncomingMessage, res: http.ServerResponse, app: AppSpec) => boolean;

export function frontIntercept(opts: { staticFiles?: StaticFiles | undefined; httpsRedirectPort?: (() => number) | undefined }): FrontIntercept | undefined {
  const { staticFiles, httpsRedirectPort } = opts;
  if (httpsRedirectPort === undefined) return staticFiles ? (req, res, app) => staticFiles.serve(req, res, app) : undefined;
  return (req, res, app) => {
    if ((req.socket as { encrypted?: boolean }).encrypted !== true) { redirectToHttps(req, res, httpsRedirectPort()); return true; }
    return staticFiles?.serve(req, res, app) ?? false;
  };
}
