// Which file under the static directory a request path names, if any. The
// answer is conservative: anything that could name something outside the
// directory is either refused (400) or left to the app, never looked up.
export type StaticPath =
  /** Not a static-file candidate: the app answers. */
  | { kind: 'none' }
  /** Malformed, or climbing above the directory: 400, the app never sees it. */
  | { kind: 'bad'; reason: string }
  /** `rel`: decoded, normalised, relative ('' for the directory itself). */
  | { kind: 'path'; rel: string; trailingSlash: boolean; rawPath: string; query: string };

const NONE: StaticPath = { kind: 'none' };

/**
 * `url` is the raw request target; `baseUri` the app's mount point. Encoded
 * slashes (%2F, %5C) never map to files: they change the path's structure,
 * and apps (GitLab, say) give them their own meaning, so the app gets them.
 */
export function staticPath(url: string, baseUri: string): StaticPath {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q);
  // Origin-form only; `//host/x` would make a protocol-relative redirect target.
  if (path.charCodeAt(0) !== 47 /* / */ || path.charCodeAt(1) === 47) return NONE;
  if (baseUri !== '/' && baseUri !== '') {
    const base = baseUri.endsWith('/') ? baseUri.slice(0, -1) : baseUri;
    if (path !== base && !path.startsWith(base + '/')) return NONE;
    path = path.slice(base.length) || '/';
  }
  let decoded = path;
  if (path.includes('%')) {
    if (/%2f|%5c/i.test(path)) return NONE;
    try { decoded = decodeURIComponent(path); } catch { return NONE; }
  }
  if (decoded.includes('\0')) return { kind: 'bad', reason: 'a NUL byte in the request path' };
  if (decoded.includes('\\')) return NONE;
  const segments: string[] = [];
  for (const s of decoded.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') {
      if (segments.length === 0) return { kind: 'bad', reason: 'the request path climbs above the root' };
      segments.pop();
      continue;
    }
    // Dot files (.git, .env) are never static; .well-known (ACME challenges) is.
    if (s.charCodeAt(0) === 46 /* . */ && s !== '.well-known') return NONE;
    segments.push(s);
  }
  return { kind: 'path', rel: segments.join('/'), trailingSlash: decoded.endsWith('/'), rawPath: url.slice(0, q < 0 ? url.length : q), query };
}
