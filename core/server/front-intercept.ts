// What the built-in engine answers itself, before a request goes to the
// pool: the redirect to HTTPS (ssl_redirect) and files from public/.
import type http from 'node:http';
import type { AppSpec } from '../config/app-spec.ts';
import type { StaticFiles } from './static/static-files.ts';
import type { StaticReply } from './static/static-reply.ts';
import { redirectToHttps } from './tls/https-redirect.ts';

/** true: the request was answered. */
export type FrontIntercept = (req: http.IncomingMessage, res: http.ServerResponse, app: AppSpec) => boolean;

/**
 * The same question on the lean engine, which has no node:http objects: a
 * reply, or one to come (a file being read into memory), 'node' when
 * node:http must answer the request (through FrontIntercept), or undefined
 * when the app answers it.
 */
export type LeanIntercept = (method: string, url: string, rawHeaders: readonly string[], app: AppSpec) => StaticReply | Promise<StaticReply> | 'node' | undefined;

export function frontIntercept(opts: { staticFiles?: StaticFiles | undefined; httpsRedirectPort?: (() => number) | undefined }): FrontIntercept | undefined {
  const { staticFiles, httpsRedirectPort } = opts;
  if (httpsRedirectPort === undefined) return staticFiles ? (req, res, app) => staticFiles.serve(req, res, app) : undefined;
  return (req, res, app) => {
    if ((req.socket as { encrypted?: boolean }).encrypted !== true) { redirectToHttps(req, res, httpsRedirectPort()); return true; }
    return staticFiles?.serve(req, res, app) ?? false;
  };
}
