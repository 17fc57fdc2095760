// Serves files from an app's static directory (public/ by default) without
// touching the app: GET and HEAD only, for every app type. `send` does the
// HTTP part (ETag, Last-Modified, 304, Range, 206/416, HEAD) and streams from
// the file; this module decides which file, and that it lies inside the tree.
// A path that names no file costs one stat (none when the directory is absent).
import { maskQuery } from '../../error-reports/mask-query.ts';
import type http from 'node:http';
import { closeSync, statSync, type Stats } from 'node:fs';
import { extname } from 'node:path';
import { createRequire } from 'node:module';
import type { AppSpec } from '../../config/app-spec.ts';
import type { Logger } from '../../log/logger.ts';
import { PublicDir } from './public-dir.ts';
import { staticPath } from './request-path.ts';
import { acceptedCodings } from './accept-encoding.ts';
import { openInside, type OpenedFile } from './safe-open.ts';
import type { StaticFileCache } from './file-cache.ts';

type SendModule = typeof import('send');
type MimeModule = typeof import('mime-types');
let libs: { send: SendModule; contentType: MimeModule['contentType'] } | undefined;
/**
 * Loaded on the first static hit, not at start: send and mime-types (its
 * type database) add about 10 MiB to the core's RSS, which an app without
 * public/ should not pay.
 */
function staticLibs(): NonNullable<typeof libs> {
  if (!libs) {
    const require = createRequire(import.meta.url);
    libs = { send: require('send') as SendModule, contentType: (require('mime-types') as MimeModule).contentType };
  }
  return libs;
}

/** Fingerprinted by the asset pipeline (Sprockets, Propshaft) or webpacker: a changed file gets a new name. */
const FINGERPRINTED = /^(?:assets|packs)\//;
/** A year of 365 days in ms: send's longest maxAge. */
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Headers that make send answer something other than the whole file (304, 206, 412): always send's. */
const CONDITIONAL = ['range', 'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range'] as const;
/** Refusals logged once per path, at most this many. */
const MAX_WARNED = 100;

/** What serve() answers a request with, when it is not the app's to answer. */
type StaticAnswer =
  | { kind: 'refuse'; reason: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'file'; root: string; file: string; rel: string };

function isFile(s: Stats | undefined): s is Stats { return s !== undefined && s.isFile(); }

/**
 * The file's stats, or undefined when there is none. throwIfNoEntry covers
 * ENOENT only: `/style.css/more` fails with ENOTDIR (and a long name with
 * ENAMETOOLONG), which must send the request to the app, not end the core.
 */
function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function plain(res: http.ServerResponse, status: number, text: string, method: string | undefined, extra: Record<string, string> = {}): void {
  const body = `${status} ${text}\n`;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ...extra });
  res.end(method === 'HEAD' ? undefined : body);
}

/**
 * A whole file from memory, with the headers send gives the same file (a
 * spec compares them): Accept-Ranges, Cache-Control, Last-Modified, its
 * weak ETag of size and mtime, Content-Length.
 */
function writeWhole(req: http.IncomingMessage, res: http.ServerResponse, st: Stats, fingerprinted: boolean, body: Buffer): void {
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Cache-Control', fingerprinted ? `public, max-age=${Math.floor(YEAR_MS / 1000)}, immutable` : 'public, max-age=0');
  res.setHeader('Last-Modified', st.mtime.toUTCString());
  res.setHeader('ETag', `W/"${st.size.toString(16)}-${st.mtime.getTime().toString(16)}"`);
  res.setHeader('Content-Length', body.length);
  res.statusCode = 200;
  res.end(req.method === 'HEAD' ? undefined : body);
}

export class StaticFiles {
  readonly #log: Logger;
  readonly #asRoot: boolean;
  readonly #dirs = new Map<string, PublicDir>();
  readonly #dirBySpec = new WeakMap<AppSpec, { configured: string; dir: PublicDir }>();
  readonly #warned = new Set<string>();
  readonly #scriptExtensionsOf: (appType: string) => readonly string[];
  readonly #cache: StaticFileCache | undefined;

  /**
   * `asRoot`: the server runs as root, so the app's user controls the tree (see PublicDir and openInside).
   * `scriptExtensionsOf`: the extensions an app type executes (AppTypeDescriptor.scriptExtensions), never sent as files.
   * `cache`: whole small files answered from memory (file-cache.ts); without it every file is streamed.
   */
  constructor(log: Logger, asRoot: boolean, scriptExtensionsOf: (appType: string) => readonly string[] = () => [], cache?: StaticFileCache) {
    this.#log = log;
    this.#asRoot = asRoot;
    this.#scriptExtensionsOf = scriptExtensionsOf;
    this.#cache = cache;
  }

  #dir(app: AppSpec): PublicDir {
    const configured = String(app.options.static_files_dir ?? 'public');
    // Asked for every GET: the app's spec object finds its directory without a key string to build and hash.
    const last = this.#dirBySpec.get(app);
    if (last !== undefined && last.configured === configured) return last.dir;
    const key = `${app.appRoot}\0${configured}`;
    let dir = this.#dirs.get(key);
    if (!dir) {
      const path = configured.startsWith('/') ? configured : `${app.appRoot}/${configured}`;
      dir = new PublicDir(app.appRoot, path, this.#asRoot && !configured.startsWith('/'));
      this.#dirs.set(key, dir);
    }
    this.#dirBySpec.set(app, { configured, dir });
    return dir;
  }

  /**
   * What serve() does with a request: nothing (the app answers: undefined),
   * refuse its path, redirect a directory to its trailing slash, or send a
   * file (an index.html for a directory) that lies under the static directory.
   * One stat when the path names nothing.
   */
  #locate(method: string | undefined, url: string, app: AppSpec): StaticAnswer | undefined {
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    if (app.options.static_files === false) return undefined;
    const root = this.#dir(app).real(Date.now());
    if (root === undefined) return undefined;
    const p = staticPath(url, app.options.base_uri);
    if (p.kind === 'none') return undefined;
    if (p.kind === 'bad') return { kind: 'refuse', reason: p.reason };
    let rel = p.rel;
    let file = rel ? `${root}/${rel}` : root;
    const st = statIfAny(file);
    if (st === undefined) return undefined;
    if (st.isDirectory()) {
      if (!isFile(statIfAny(`${file}/index.html`))) return undefined;
      // As web servers do, so that the page's relative links resolve inside the directory.
      if (!p.trailingSlash) return { kind: 'redirect', location: `${p.rawPath}/${p.query}` };
      file += '/index.html';
      rel = rel ? `${rel}/index.html` : 'index.html';
    } else if (!st.isFile() || p.trailingSlash) return undefined;
    // A script (public/index.php) is the app's to run, never to publish; a compressed sibling of one neither.
    const scripts = this.#scriptExtensionsOf(app.appType);
    if (scripts.length > 0 && scripts.includes(extname(file.replace(/\.(?:br|gz)$/, '')).toLowerCase())) return undefined;
    return { kind: 'file', root, file, rel };
  }

  /** Whether serve() would answer this request, asked by the lean engine, which leaves those to node:http. */
  mayServe(method: string, url: string, app: AppSpec): boolean {
    return this.#locate(method, url, app) !== undefined;
  }

  /** true: answered here; false: the app answers. */
  serve(req: http.IncomingMessage, res: http.ServerResponse, app: AppSpec): boolean {
    const method = req.method;
    const answer = this.#locate(method, req.url ?? '/', app);
    if (answer === undefined) return false;
    switch (answer.kind) {
      case 'refuse':
        this.#log.warn(`${method} ${JSON.stringify(maskQuery(req.url ?? ''))}: refused (${answer.reason})`);
        plain(res, 400, 'Bad Request', method);
        break;
      case 'redirect':
        plain(res, 301, 'Moved Permanently', method, { Location: answer.location });
        break;
      case 'file':
        this.#send(req, res, answer.root, answer.file, answer.rel);
        break;
    }
    return true;
  }

  #send(req: http.IncomingMessage, res: http.ServerResponse, root: string, file: string, rel: string): void {
    let opened: OpenedFile | 'outside' | undefined;
    let coding: string | undefined;
    let vary = false;
    if (!file.endsWith('.br') && !file.endsWith('.gz')) {
      const br = isFile(statIfAny(`${file}.br`));
      const gz = isFile(statIfAny(`${file}.gz`));
      if (br || gz) {
        vary = true;
        const accepted = acceptedCodings(req.headers['accept-encoding']);
        for (const [has, ok, suffix, name] of [[br, accepted.br, '.br', 'br'], [gz, accepted.gzip, '.gz', 'gzip']] as const) {
          if (!has || !ok) continue;
          const sibling = openInside(root, file + suffix, this.#asRoot);
          if (typeof sibling === 'object') { opened = sibling; coding = name; break; }
        }
      }
    }
    opened ??= openInside(root, file, this.#asRoot);
    if (typeof opened !== 'object') {
      if (opened === 'outside') this.#warnOnce(file);
      plain(res, 404, 'Not Found', req.method);
      return;
    }
    const { contentType } = staticLibs();
    res.setHeader('Content-Type', contentType(extname(file)) || 'application/octet-stream');
    if (coding) res.setHeader('Content-Encoding', coding);
    if (vary) res.setHeader('Vary', 'Accept-Encoding');
    const fingerprinted = FINGERPRINTED.test(rel);
    const cache = this.#cache;
    if (cache && cache.admits(opened.stat) && !CONDITIONAL.some((h) => req.headers[h] !== undefined)) {
      const body = cache.get(opened.stat);
      if (body) {
        closeSync(opened.fd);
        writeWhole(req, res, opened.stat, fingerprinted, body);
        return;
      }
      if (req.method === 'GET') {
        const { fd, stat } = opened;
        const streamInstead = opened;
        cache.load(fd, stat, (loaded) => {
          if (loaded === undefined) { this.#stream(req, res, streamInstead, fingerprinted); return; }
          closeSync(fd);
          if (!res.destroyed) writeWhole(req, res, stat, fingerprinted, loaded);
        });
        return;
      }
    }
    this.#stream(req, res, opened, fingerprinted);
  }

  /** send answers from the opened file: conditional requests, ranges, files too large to cache. */
  #stream(req: http.IncomingMessage, res: http.ServerResponse, opened: OpenedFile, fingerprinted: boolean): void {
    const { send } = staticLibs();
    const fd = opened.fd;
    let open = true;
    const release = () => { if (open) { open = false; closeSync(fd); } };
    if (res.destroyed) { release(); return; }
    res.once('close', release);
    const stream = send(req, opened.servePath, {
      index: false, dotfiles: 'allow', maxAge: fingerprinted ? YEAR_MS : 0, immutable: fingerprinted,
    });
    // Our descriptor only pins the file until send has opened its own.
    stream.on('stream', (s: NodeJS.EventEmitter) => s.once('open', release));
    stream.pipe(res);
  }

  #warnOnce(file: string): void {
    if (this.#warned.has(file) || this.#warned.size >= MAX_WARNED) return;
    this.#warned.add(file);
    this.#log.warn(`not serving ${file}: it leads out of the static directory (a symlink)${this.#asRoot ? ' or is not readable by everyone' : ''}; it answers 404`);
  }
}
