// Replies from memory: the request headers they depend on, read from the lean
// engine's raw headers as node reads them; the headers of a whole file and of
// its 304; and when a client's copy is current (RFC 9110 13.1).
import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { fileReplies, isFresh, staticHeadersOfNode, staticHeadersOfRaw, type StaticRequestHeaders } from '../../../../core/server/static/static-reply.ts';

const none: StaticRequestHeaders = { acceptEncoding: undefined, ifNoneMatch: undefined, ifModifiedSince: undefined, cacheControl: undefined, needsSend: false };

describe('static files: replies from memory', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'psg-static-reply-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function replies(name: string, opts: { coding?: string; vary?: boolean; fingerprinted?: boolean } = {}) {
    const path = join(dir, name);
    writeFileSync(path, 'x'.repeat(300));
    utimesSync(path, 1_700_000_000, 1_700_000_000);
    return fileReplies(statSync(path), 'text/css; charset=utf-8', opts.coding, opts.vary ?? false, opts.fingerprinted ?? false);
  }

  it('reads the raw headers as node parses them: lists joined, the first If-Modified-Since, Range and preconditions left to send', async () => {
    const raw = ['Host', 'x', 'ACCEPT-ENCODING', 'gzip', 'accept-encoding', 'br', 'If-None-Match', '"a"', 'if-none-match', '"b"',
      'If-Modified-Since', 'Tue, 14 Nov 2023 22:13:20 GMT', 'If-Modified-Since', 'Wed, 15 Nov 2023 22:13:20 GMT', 'Cache-Control', 'no-cache'];
    const fromRaw = staticHeadersOfRaw(raw);
    // node's own parse of the same head, as the node:http path sees it.
    const fromNode = await new Promise<StaticRequestHeaders>((resolve, reject) => {
      const server = http.createServer((req, res) => { res.end(); server.close(); resolve(staticHeadersOfNode(req.headers)); });
      server.listen(0, '127.0.0.1', () => {
        const socket = net.connect((server.address() as { port: number }).port, '127.0.0.1');
        socket.on('error', reject);
        let head = 'GET / HTTP/1.1\r\n';
        for (let i = 0; i < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
        socket.end(`${head}Connection: close\r\n\r\n`);
        socket.resume();
      });
    });
    expect(fromRaw).to.deep.equal({ acceptEncoding: 'gzip, br', ifNoneMatch: '"a", "b"', ifModifiedSince: 'Tue, 14 Nov 2023 22:13:20 GMT', cacheControl: 'no-cache', needsSend: false });
    expect(fromRaw).to.deep.equal(fromNode);
    for (const name of ['Range', 'If-Range', 'if-match', 'If-Unmodified-Since']) {
      expect(staticHeadersOfRaw(['Host', 'x', name, 'v']).needsSend, name).to.equal(true);
    }
    expect(staticHeadersOfRaw(['X-Range', 'v', 'Rangee', 'v']).needsSend).to.equal(false);
  });

  it("gives a whole file send's headers, and its 304 the same without the Content-* ones", () => {
    const r = replies('a.css', { coding: 'br', vary: true, fingerprinted: true });
    const st = statSync(join(dir, 'a.css'));
    const ok = Object.fromEntries(r.ok.flatMap((v, i, a) => (i % 2 ? [] : [[v, a[i + 1]]])));
    expect(ok).to.deep.equal({
      'Content-Type': 'text/css; charset=utf-8', 'Content-Encoding': 'br', 'Accept-Ranges': 'bytes',
      'Cache-Control': 'public, max-age=31536000, immutable', 'Last-Modified': 'Tue, 14 Nov 2023 22:13:20 GMT',
      ETag: `W/"12c-${st.mtime.getTime().toString(16)}"`, Vary: 'Accept-Encoding', 'Content-Length': '300',
    });
    expect(r.notModified.filter((_, i) => i % 2 === 0)).to.deep.equal(['Accept-Ranges', 'Cache-Control', 'Last-Modified', 'ETag', 'Vary']);
    const plain = replies('b.css');
    expect(plain.ok).to.not.include('Vary').and.not.include('Content-Encoding');
    expect(plain.ok[plain.ok.indexOf('Cache-Control') + 1]).to.equal('public, max-age=0');
  });

  it('finds a copy current by any tag of If-None-Match, weak or not, or *, else by If-Modified-Since alone', () => {
    const r = replies('c.css');
    const strong = r.etag.slice(2);
    const fresh = (h: Partial<StaticRequestHeaders>) => isFresh({ ...none, ...h }, r);
    expect(fresh({})).to.equal(false);
    expect(fresh({ ifNoneMatch: r.etag })).to.equal(true);
    expect(fresh({ ifNoneMatch: strong })).to.equal(true);
    expect(fresh({ ifNoneMatch: `"x", W/"y",${r.etag}` })).to.equal(true);
    expect(fresh({ ifNoneMatch: ' * ' })).to.equal(true);
    expect(fresh({ ifNoneMatch: '"x"' })).to.equal(false);
    // If-None-Match decides when present.
    expect(fresh({ ifNoneMatch: '"x"', ifModifiedSince: 'Tue, 14 Nov 2023 22:13:20 GMT' })).to.equal(false);
    expect(fresh({ ifModifiedSince: 'Tue, 14 Nov 2023 22:13:20 GMT' })).to.equal(true);
    expect(fresh({ ifModifiedSince: 'Wed, 15 Nov 2023 00:00:00 GMT' })).to.equal(true);
    expect(fresh({ ifModifiedSince: 'Tue, 14 Nov 2023 22:13:19 GMT' })).to.equal(false);
    expect(fresh({ ifModifiedSince: 'yesterday' })).to.equal(false);
    expect(fresh({ ifNoneMatch: r.etag, cacheControl: 'max-age=0, No-Cache' })).to.equal(false);
    expect(fresh({ ifNoneMatch: r.etag, cacheControl: 'no-cache-please' })).to.equal(true);
  });
});
