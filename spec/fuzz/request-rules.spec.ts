// Property-based fuzzing of the HTTP head rules (core/server/http/request-rules.ts)
// against an oracle: generated request heads go through node's own HTTP parser
// (a real server on loopback, with the engine's parser options), and for every
// head node accepts, checkRequestHead must answer what a model of the stricter
// rules, written from the generated structure rather than the parsed bytes,
// says: the same status, and for accepted heads the same target, Host and
// headers minus underscored names. Any parsed head, however odd, gets a verdict
// (never an exception) whose message is one short line.
import { expect } from 'chai';
import fc from 'fast-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkRequestHead, type HeadVerdict, type ParsedHead } from '../../core/server/http/request-rules.ts';
import { sendRaw } from '../support/hostile-requests.ts';
import { fuzzParameters } from './fuzz-settings.ts';

/** Host values, each with whether the rules accept it (the model's knowledge, not the regex's). */
const HOSTS: [string, boolean][] = [
  ['example.com', true], ['a.b-c.example:8080', true], ['127.0.0.1', true], ['[::1]:80', true], ['[::1]', true], ['localhost:', true],
  ['xn--bcher-kva.example', true], ['a%20b', true], ['', true],
  ['a,b', false], ['a b', false], ['a/b', false], ['user@host', false], ['host:80:80', false], ['[::1', false], ['h:123456', false], ['a"b', false],
];

type Target = { kind: 'origin'; path: string } | { kind: 'asterisk' } | { kind: 'absolute'; scheme: string; authority: string; rest: string } | { kind: 'other'; text: string };

const target: fc.Arbitrary<Target> = fc.oneof(
  fc.constantFrom('/', '/a/b?c=d', '/x?', '//double').map((path) => ({ kind: 'origin' as const, path })),
  fc.constant({ kind: 'asterisk' as const }),
  fc.record({ scheme: fc.constantFrom('http', 'https', 'HTTP', 'ftp'), authority: fc.constantFrom(...HOSTS.map(([h]) => h).filter((h) => !/[ "/]/.test(h)), 'u:p@example.com'), rest: fc.constantFrom('', '/p', '?q=1', '/p?q#f', '#f') })
    .map((t) => ({ kind: 'absolute' as const, ...t })),
  fc.constantFrom('relative', 'mailto:x').map((text) => ({ kind: 'other' as const, text })),
);

type Header = [name: string, value: string];
const header: fc.Arbitrary<Header> = fc.oneof(
  fc.tuple(fc.constantFrom('Host', 'host', 'HOST'), fc.constantFrom(...HOSTS.map(([h]) => h))),
  fc.tuple(fc.constantFrom('Transfer-Encoding', 'transfer-encoding'), fc.constantFrom('chunked', 'Chunked', ' chunked ', 'gzip', 'gzip, chunked', 'identity')),
  fc.tuple(fc.constantFrom('X_User_Id', 'Host_', 'transfer_encoding', '_'), fc.constantFrom('1', 'evil')),
  fc.tuple(fc.constantFrom('X-Plain', 'Accept', 'User-Agent'), fc.constantFrom('a', 'b c', '')),
);

const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD'),
  target,
  version: fc.constantFrom('1.1', '1.1', '1.0', '2.0'),
  headers: fc.array(header, { maxLength: 6 }),
});
type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

function targetText(t: Target): string {
  switch (t.kind) {
    case 'origin': return t.path;
    case 'asterisk': return '*';
    case 'absolute': return `${t.scheme}://${t.authority}${t.rest}`;
    case 'other': return t.text;
  }
}

/** The model of the stricter rules: the status (and for accepted heads, what the app sees), from the request's structure. */
function expected(r: Request): { status: number } | { status: 200; url: string; host: string; headers: string[] } {
  const [major, minor] = r.version.split('.').map(Number) as [number, number];
  if (major !== 1) return { status: 505 };
  // node trims the whitespace around a field value (RFC 9112 5.1).
  const kept = r.headers.filter(([n]) => !n.includes('_')).map(([n, v]): Header => [n, v.trim()]);
  const hosts = kept.filter(([n]) => n.toLowerCase() === 'host');
  const encodings = kept.filter(([n]) => n.toLowerCase() === 'transfer-encoding');
  if (hosts.length > 1 || encodings.length > 1) return { status: 400 };
  if (encodings.length === 1) {
    if (minor === 0) return { status: 400 };
    if (encodings[0]![1].trim().toLowerCase() !== 'chunked') return { status: 501 };
  }
  if (hosts.length === 0 && minor === 1) return { status: 400 };
  const hostValue = hosts[0]?.[1] ?? '';
  if (!HOSTS.find(([h]) => h === hostValue)![1]) return { status: 400 };
  const t = r.target;
  if (t.kind === 'origin') return { status: 200, url: t.path, host: hostValue, headers: kept.flat() };
  if (t.kind === 'asterisk') return r.method === 'OPTIONS' ? { status: 200, url: '*', host: hostValue, headers: kept.flat() } : { status: 400 };
  if (t.kind === 'other' || !/^https?$/i.test(t.scheme)) return { status: 400 };
  const valid = HOSTS.find(([h]) => h === t.authority)?.[1] === true && t.authority !== '';
  if (!valid) return { status: 400 };
  const url = t.rest.startsWith('/') ? t.rest : `/${t.rest}`;
  const headers = hosts.length === 1 ? kept.map(([n, v]) => [n, n.toLowerCase() === 'host' ? t.authority : v]).flat() : ['Host', t.authority, ...kept.flat()];
  return { status: 200, url, host: t.authority, headers };
}

/** What the server tells the fuzzer: node's refusal, or checkRequestHead's verdict. */
type Seen = { node: 'refused'; code: string } | { node: 'accepted'; verdict: HeadVerdict };

describe('fuzz: HTTP head rules against node\'s parser and a model of the rules', function () {
  this.timeout(20000);
  let server: http.Server;
  let port: number;
  before(async () => {
    // The engine's parser options (core/server/http/engine.ts): node checks syntax, the rules the rest.
    server = http.createServer({ requireHostHeader: false, keepAliveTimeout: 1000 }, (req, res) => {
      let verdict: HeadVerdict | { thrown: string };
      try { verdict = checkRequestHead(req); } catch (e) { verdict = { thrown: String(e) }; }
      // In a header, base64: a HEAD response has no body.
      res.writeHead(200, { connection: 'close', 'content-length': 0, 'x-seen': Buffer.from(JSON.stringify({ node: 'accepted', verdict })).toString('base64') }).end();
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nX-Seen: ${Buffer.from(JSON.stringify({ node: 'refused', code: err.code ?? 'none' })).toString('base64')}\r\n\r\n`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

  it('agrees with the model on every head node accepts', async () => {
    const tally = { accepted: 0, refusedByNode: 0 };
    await fc.assert(fc.asyncProperty(request, async (r) => {
      const hasTe = r.headers.some(([n]) => n.toLowerCase() === 'transfer-encoding');
      const head = `${r.method} ${targetText(r.target)} HTTP/${r.version}\r\n${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n${hasTe ? '0\r\n\r\n' : ''}`;
      const raw = await sendRaw(port, Buffer.from(head, 'latin1'), 3000);
      const seen = JSON.parse(Buffer.from(/\r\nx-seen: ([^\r]*)/i.exec(raw)![1]!, 'base64').toString()) as Seen | { node: 'accepted'; verdict: { thrown: string } };
      if (seen.node === 'refused') { tally.refusedByNode++; return; }
      tally.accepted++;
      const verdict = seen.verdict;
      if ('thrown' in verdict) throw new Error(`checkRequestHead threw: ${verdict.thrown}`);
      const want = expected(r);
      expect(verdict.ok ? 200 : verdict.status, `${JSON.stringify(head)}: ${verdict.ok ? 'accepted' : verdict.message}`).to.equal(want.status);
      if (verdict.ok && 'url' in want) {
        expect(verdict.url).to.equal(want.url);
        expect(verdict.host).to.equal(want.host);
        expect(verdict.rawHeaders).to.deep.equal(want.headers);
      }
    }), fuzzParameters(400));
    // The oracle must have been consulted, not skipped: most generated heads are ones node accepts.
    expect(tally.accepted, JSON.stringify(tally)).to.be.above(tally.refusedByNode);
  });

  it('gives an absolute-form target with an empty path a path starting with "/" (found by this fuzzer: http://h#f reached the app as "#f")', async () => {
    for (const [target, url] of [['http://example.com#f', '/#f'], ['http://example.com?q', '/?q'], ['http://example.com', '/']]) {
      const verdict = checkRequestHead({ method: 'GET', url: target, httpVersionMajor: 1, httpVersionMinor: 1, rawHeaders: ['Host', 'x'] });
      expect(verdict.ok && verdict.url, target).to.equal(url);
    }
  });

  it('gives any parsed head a verdict, never an exception, with a one-line message', () => {
    const str = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 80 });
    const anyHead: fc.Arbitrary<ParsedHead> = fc.record({
      method: fc.option(fc.constantFrom('GET', 'OPTIONS', 'CONNECT', ''), { nil: undefined }),
      url: fc.option(fc.oneof(str, str.map((s) => `http://${s}`), str.map((s) => `/${s}`)), { nil: undefined }),
      httpVersionMajor: fc.integer({ min: 0, max: 3 }),
      httpVersionMinor: fc.integer({ min: 0, max: 9 }),
      rawHeaders: fc.array(fc.tuple(fc.oneof(str, fc.constantFrom('Host', 'host', 'Transfer-Encoding', 'X_A')), str), { maxLength: 8 }).map((hs) => hs.flat()),
    });
    fc.assert(fc.property(anyHead, (head) => {
      const verdict = checkRequestHead(head);
      if (verdict.ok) {
        expect(verdict.url === '*' || verdict.url.startsWith('/'), verdict.url).to.equal(true);
        for (let i = 0; i < verdict.rawHeaders.length; i += 2) expect(verdict.rawHeaders[i]).to.not.include('_');
      } else {
        expect([400, 501, 505]).to.include(verdict.status);
        expect(verdict.message).to.not.match(/[\r\n]/);
        expect(verdict.message.length).to.be.below(300);
      }
    }), fuzzParameters(5000));
  });
});
