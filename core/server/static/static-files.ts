// Serves files from an app's static directory (public/ by default) without
// touching the app: GET and HEAD only, for every app type. `send` does the
// HTTP part (ETag, Last-Modified, 304, Range, 206/416, HEAD) and streams from
// the file; this module decides which file, and that it lies inside the tree.
// A path that names no file costs one stat, then none for a second
// (missed-paths.ts; none at all when the directory is absent).
// A small file already in memory (file-cache.ts), at a path already checked
// (hot-files.ts), is answered from memory for one stat: through node:http
// or, with no node:http objects at all, by the lean engine (replyLean).
import { maskQuery } from '../../error-reports/mask-query.ts';
import type http from 'node:http';
import { closeSync, type Stats } from 'node:fs';
import { extname } from 'node:path';
import { createRequire } from 'node:module';
import type { AppSpec } from '../../config/app-spec.ts';
import type { Logger } from '../../log/logger.ts';
import { PublicDir } from './public-dir.ts';
import { staticPath, type StaticPath } from './request-path.ts';
import { acceptedCodings } from './accept-encoding.ts';
import { openInside, statIfAny, type OpenedFile } from './safe-open.ts';
import type { StaticFileCache } from './file-cache.ts';
import { HotFiles, sameVersion } from './hot-files.ts';
import { YEAR_S, fileReplies, isFresh, staticHeadersOfNode, staticHeadersOfRaw, type StaticReply, type StaticRequestHeaders } from './static-reply.ts';

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
/** Refusals logged once per path, at most this many. */
const MAX_WARNED = 100;

/** Where a request leads, when it is not the app's to answer. */
type StaticAnswer =
  | { kind: 'refuse'; reason: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'file'; root: string; file: string; rel: string; st: Stats };

type FileAnswer = Extract<StaticAnswer, { kind: 'file' }>;

/** A request path that may name a file. */
type RequestPath = Extract<StaticPath, { kind: 'path' }>;

/** Which variant of a file goes out: a compressed sibling, with its coding, or the file itself. */
interface Variant { path: string; coding: string | undefined; vary: boolean }

/** A file for send to stream (a range, a precondition, a file not kept in memory), opened and checked. */
interface ToStream { opened: OpenedFile; type: string; variant: Variant; fingerprinted: boolean }

/**
 * What a static request gets: a reply now, one once the file was read into
 * memory, or a file for send. undefined (elsewhere): the app answers.
 */
type Outcome = StaticReply | Promise<StaticReply> | ToStream;

function isReply(o: Outcome): o is StaticReply { return 'status' in o; }

function isFile(s: Stats | undefined): s is Stats { return s !== undefined && s.isFile(); }

/** A short text answer of ours (400, 301, 404, 503), as a reply. */
function plainReply(status: 301 | 400 | 404 | 503, reason: string, method: string | undefined, extra: string[] = []): StaticReply {
  const body = Buffer.from(`${status} ${reason}\n`);
  return {
    status, reason, headers: ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(body.length), ...extra],
    body: method === 'HEAD' ? undefined : body,
  };
}

/** A reply written through node's response. */
function writeReply(res: http.ServerResponse, reply: StaticReply): void {
  const h = reply.headers;
  for (let i = 0; i < h.length; i += 2) res.setHeader(h[i]!, h[i + 1]!);
  res.statusCode = reply.status;
  res.end(reply.body);
}

function isCompressed(file: string): boolean { return file.endsWith('.br') || file.endsWith('.gz'); }

/** The key of a variant in HotFiles: a sibling served for its original gets other headers than when asked for by its own name. */
function hotKey(v: Variant): string { return v.coding === undefined ? v.path : `${v.path}\0${v.coding}`; }

export class StaticFiles {
  readonly #log: Logger;
  readonly #asRoot: boolean;
  readonly #dirs = new Map<string, PublicDir>();
  readonly #dirBySpec = new WeakMap<AppSpec, { configured: string; dir: PublicDir }>();
  readonly #warned = new Set<string>();
  readonly #scriptExtensionsOf: (appType: string) => readonly string[];
  readonly #cache: StaticFileCache | undefined;
  readonly #hot = new HotFiles();

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
   * One stat when the path names nothing, and none for a second after.
   */
  #locate(method: string | undefined, url: string, app: AppSpec): StaticAnswer | undefined {
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    if (app.options.static_files === false) return undefined;
    const now = Date.now();
    const dir = this.#dir(app);
    const root = dir.real(now);
    if (root === undefined) return undefined;
    const p = staticPath(url, app.options.base_uri);
    if (p.kind === 'none') return undefined;
    if (p.kind === 'bad') return { kind: 'refuse', reason: p.reason };
    const key = p.trailingSlash ? `${p.rel}/` : p.rel;
    if (dir.misses.has(key, now)) return undefined;
    const answer = this.#lookUp(root, p, app);
    if (answer === undefined) dir.misses.add(key, now);
    return answer;
  }

  /** The stat(s) behind #locate: the file `rel` names under `root`, or undefined when the app answers. */
  #lookUp(root: string, p: RequestPath, app: AppSpec): StaticAnswer | undefined {
    let rel = p.rel;
    let file = rel ? `${root}/${rel}` : root;
    let st = statIfAny(file);
    if (st === undefined) return undefined;
    if (st.isDirectory()) {
      st = statIfAny(`${file}/index.html`);
      if (!isFile(st)) return undefined;
      // As web servers do, so that the page's relative links resolve inside the directory.
      if (!p.trailingSlash) return { kind: 'redirect', location: `${p.rawPath}/${p.query}` };
      file += '/index.html';
      rel = rel ? `${rel}/index.html` : 'index.html';
    } else if (!st.isFile() || p.trailingSlash) return undefined;
    // A script (public/index.php) is the app's to run, never to publish; a compressed sibling of one neither.
    const scripts = this.#scriptExtensionsOf(app.appType);
    if (scripts.length > 0 && scripts.includes(extname(file.replace(/\.(?:br|gz)$/, '')).toLowerCase())) return undefined;
    return { kind: 'file', root, file, rel, st };
  }

  /**
   * The lean engine's question, asked with the request's raw headers: a
   * reply (or one once the file is in memory), 'node' when send must stream
   * the file through node:http (serve() answers it there), or undefined when
   * the app answers.
   */
  replyLean(method: string, url: string, rawHeaders: readonly string[], app: AppSpec): StaticReply | Promise<StaticReply> | 'node' | undefined {
    const outcome = this.#answer(method, url, () => staticHeadersOfRaw(rawHeaders), app);
    if (outcome === undefined || outcome instanceof Promise || isReply(outcome)) return outcome;
    // node:http opens it again: only ranges, preconditions and files too large to keep come this way.
    closeSync(outcome.opened.fd);
    return 'node';
  }

  /** true: answered here; false: the app answers. */
  serve(req: http.IncomingMessage, res: http.ServerResponse, app: AppSpec): boolean {
    const outcome = this.#answer(req.method, req.url ?? '/', () => staticHeadersOfNode(req.headers), app);
    if (outcome === undefined) return false;
    if (outcome instanceof Promise) void outcome.then((reply) => { if (!res.destroyed) writeReply(res, reply); });
    else if (isReply(outcome)) writeReply(res, outcome);
    else this.#stream(req, res, outcome);
    return true;
  }

  #answer(method: string | undefined, url: string, headersOf: () => StaticRequestHeaders, app: AppSpec): Outcome | undefined {
    const answer = this.#locate(method, url, app);
    if (answer === undefined) return undefined;
    switch (answer.kind) {
      case 'refuse':
        this.#log.warn(`${method} ${JSON.stringify(maskQuery(url))}: refused (${answer.reason})`);
        return plainReply(400, 'Bad Request', method);
      case 'redirect':
        return plainReply(301, 'Moved Permanently', method, ['Location', answer.location]);
      case 'file': {
        const headers = headersOf();
        return this.#fromMemory(answer, method, headers) ?? this.#open(answer, method, headers);
      }
    }
  }

  /** The variant of `file` to send: a compressed sibling the client accepts (siblings looked up at most once a second), else the file. */
  #variantOf(file: string, acceptEncoding: string | undefined): Variant[] {
    if (isCompressed(file)) return [{ path: file, coding: undefined, vary: false }];
    const siblings = this.#hot.siblingsOf(file, Date.now());
    if (!siblings.br && !siblings.gz) return [{ path: file, coding: undefined, vary: false }];
    const accepted = acceptedCodings(acceptEncoding);
    const out: Variant[] = [];
    if (siblings.br && accepted.br) out.push({ path: `${file}.br`, coding: 'br', vary: true });
    if (siblings.gz && accepted.gzip) out.push({ path: `${file}.gz`, coding: 'gzip', vary: true });
    out.push({ path: file, coding: undefined, vary: true });
    return out;
  }

  /**
   * The reply when no file needs opening: the path was checked before and
   * still leads to the same version of the file (one stat, made by #locate
   * for the file itself, one more for a compressed sibling), and the client's
   * copy is current (304) or the contents are in memory. Otherwise undefined.
   */
  #fromMemory(answer: FileAnswer, method: string | undefined, req: StaticRequestHeaders): StaticReply | undefined {
    const cache = this.#cache;
    if (cache === undefined || req.needsSend) return undefined;
    const variant = this.#variantOf(answer.file, req.acceptEncoding)[0]!;
    const st = variant.path === answer.file ? answer.st : statIfAny(variant.path);
    if (!isFile(st)) return undefined;
    const hot = this.#hot.get(hotKey(variant));
    if (hot === undefined || hot.vary !== variant.vary || !sameVersion(hot, st)) return undefined;
    if (isFresh(req, hot)) return { status: 304, reason: 'Not Modified', headers: hot.notModified, body: undefined };
    const body = cache.get(st);
    if (body === undefined) return undefined;
    return { status: 200, reason: 'OK', headers: hot.ok, body: method === 'HEAD' ? undefined : body };
  }

  /** A file to open first (safe-open.ts): then answered from memory, read into it, or left to send. */
  #open(answer: FileAnswer, method: string | undefined, headers: StaticRequestHeaders): Outcome {
    const { root, file, rel } = answer;
    let opened: OpenedFile | 'outside' | undefined;
    let variant: Variant | undefined;
    for (const v of this.#variantOf(file, headers.acceptEncoding)) {
      opened = openInside(root, v.path, this.#asRoot);
      variant = v;
      // A sibling that cannot be sent leaves the next variant to try; the file itself answers 404.
      if (typeof opened === 'object' || v.path === file) break;
    }
    if (typeof opened !== 'object' || variant === undefined) {
      if (opened === 'outside') this.#warnOnce(variant?.path ?? file);
      return plainReply(404, 'Not Found', method);
    }
    const { contentType } = staticLibs();
    const type = contentType(extname(file)) || 'application/octet-stream';
    const fingerprinted = FINGERPRINTED.test(rel);
    const replies = fileReplies(opened.stat, type, variant.coding, variant.vary, fingerprinted);
    this.#hot.remember(hotKey(variant), opened.stat, replies, variant.vary);
    const cache = this.#cache;
    if (cache === undefined || headers.needsSend) return { opened, type, variant, fingerprinted };
    const { fd, stat } = opened;
    if (isFresh(headers, replies)) {
      closeSync(fd);
      return { status: 304, reason: 'Not Modified', headers: replies.notModified, body: undefined };
    }
    if (!cache.admits(stat)) return { opened, type, variant, fingerprinted };
    const whole = (body: Buffer): StaticReply => ({ status: 200, reason: 'OK', headers: replies.ok, body: method === 'HEAD' ? undefined : body });
    const cached = cache.get(stat);
    if (cached) {
      closeSync(fd);
      return whole(cached);
    }
    return new Promise((resolve) => {
      cache.load(fd, stat, (loaded) => {
        closeSync(fd);
        // Changed while it was read: asking again costs little and sees the file as it is now.
        resolve(loaded ? whole(loaded) : plainReply(503, 'Service Unavailable', method, ['Retry-After', '1']));
      });
    });
  }

  /** send answers from the opened file: conditional requests, ranges, files too large to cache. */
  #stream(req: http.IncomingMessage, res: http.ServerResponse, { opened, type, variant, fingerprinted }: ToStream): void {
    const { send } = staticLibs();
    res.setHeader('Content-Type', type);
    if (variant.coding) res.setHeader('Content-Encoding', variant.coding);
    if (variant.vary) res.setHeader('Vary', 'Accept-Encoding');
    const fd = opened.fd;
    let open = true;
    const release = () => { if (open) { open = false; closeSync(fd); } };
    if (res.destroyed) { release(); return; }
    res.once('close', release);
    const stream = send(req, opened.servePath, {
      index: false, dotfiles: 'allow', maxAge: fingerprinted ? YEAR_S * 1000 : 0, immutable: fingerprinted,
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
