// Which precompressed sibling (.br, .gz) a client accepts, from its
// Accept-Encoding header (RFC 9110 12.5.3): q=0 refuses a coding, `*` stands
// for any coding not named.
export interface AcceptedCodings { br: boolean; gzip: boolean }

export function acceptedCodings(header: string | string[] | undefined): AcceptedCodings {
  const out = { br: false, gzip: false };
  if (header === undefined) return out;
  const text = Array.isArray(header) ? header.join(',') : header;
  let star: boolean | undefined;
  const named = new Set<string>();
  for (const part of text.split(',')) {
    const [token = '', ...params] = part.split(';');
    const coding = token.trim().toLowerCase();
    if (!coding) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    const ok = q > 0;
    if (coding === '*') star = ok;
    else if (coding === 'br' || coding === 'gzip' || coding === 'x-gzip') {
      const key = coding === 'br' ? 'br' : 'gzip';
      named.add(key);
      out[key] = ok;
    }
  }
  if (star !== undefined) {
    if (!named.has('br')) out.br = star;
    if (!named.has('gzip')) out.gzip = star;
  }
  return out;
}
