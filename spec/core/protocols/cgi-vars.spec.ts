// The session protocol's request head: framing and the CGI variables a loader sees.
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { encodeSessionHead } from '../../../core/protocols/cgi-vars.ts';
import type { FrontRequest } from '../../../core/server/front.ts';

function request(over: Partial<FrontRequest> = {}): FrontRequest {
  return {
    method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Host', 'example.test:8080'],
    remoteAddress: '127.0.0.1', remotePort: 50000, serverName: 'example.test', serverPort: 8080,
    https: false, trustedProxy: false, body: null, contentLength: undefined, ...over,
  };
}

/** Decodes a head back into ordered pairs, checking the framing on the way. */
function decode(head: Buffer): [string, string][] {
  const n = head.readUInt32BE(0);
  expect(head.length, 'length prefix covers exactly the pairs').to.equal(4 + n);
  const fields = head.subarray(4).toString('latin1').split('\0');
  expect(fields.pop(), 'the pairs end with a NUL').to.equal('');
  expect(fields.length % 2, 'keys and values pair up').to.equal(0);
  const pairs: [string, string][] = [];
  for (let i = 0; i < fields.length; i += 2) pairs.push([fields[i]!, fields[i + 1]!]);
  return pairs;
}

function vars(req: FrontRequest, baseUri = '/', password = 'secret'): Record<string, string> {
  const pairs = decode(encodeSessionHead(req, password, baseUri));
  const keys = pairs.map(([k]) => k);
  expect(new Set(keys).size, `no key twice in ${keys.join(',')}`).to.equal(keys.length);
  return Object.fromEntries(pairs);
}

const someBody = () => Readable.from([Buffer.from('x')]);

describe('encodeSessionHead (CGI variables)', () => {
  it('starts with the connect password, then the request line variables', () => {
    const pairs = decode(encodeSessionHead(request({ method: 'DELETE', url: '/a?b=1' }), 'pw123', '/'));
    expect(pairs[0]).to.deep.equal(['PASSENGER_CONNECT_PASSWORD', 'pw123']);
    expect(Object.fromEntries(pairs)).to.deep.include({
      REQUEST_METHOD: 'DELETE', REQUEST_URI: '/a?b=1', SERVER_NAME: 'example.test', SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1', REMOTE_ADDR: '127.0.0.1', REMOTE_PORT: '50000', HTTP_HOST: 'example.test:8080',
    });
  });

  const paths: { name: string; url: string; baseUri: string; script: string; path: string; query: string }[] = [
    { name: 'root app', url: '/a/b', baseUri: '/', script: '', path: '/a/b', query: '' },
    { name: 'root app, bare slash', url: '/', baseUri: '/', script: '', path: '/', query: '' },
    { name: 'query string', url: '/a?x=1&y=2', baseUri: '/', script: '', path: '/a', query: 'x=1&y=2' },
    { name: 'empty query string', url: '/a?', baseUri: '/', script: '', path: '/a', query: '' },
    { name: 'a second ? belongs to the query', url: '/a?x=?y', baseUri: '/', script: '', path: '/a', query: 'x=?y' },
    { name: 'percent-encoding left as received', url: '/caf%C3%A9/a%2Fb', baseUri: '/', script: '', path: '/caf%C3%A9/a%2Fb', query: '' },
    { name: 'below a base URI', url: '/sub/x/y?q=1', baseUri: '/sub', script: '/sub', path: '/x/y', query: 'q=1' },
    { name: 'base URI with a trailing slash', url: '/sub/x', baseUri: '/sub/', script: '/sub', path: '/x', query: '' },
    { name: 'exactly the base URI', url: '/sub', baseUri: '/sub', script: '/sub', path: '', query: '' },
    { name: 'exactly the base URI with a query', url: '/sub?q', baseUri: '/sub', script: '/sub', path: '', query: 'q' },
    { name: 'the base URI with a slash', url: '/sub/', baseUri: '/sub', script: '/sub', path: '/', query: '' },
    { name: 'nested base URI', url: '/a/b/c', baseUri: '/a/b', script: '/a/b', path: '/c', query: '' },
    { name: 'a path that only starts with the base URI text', url: '/subway/x', baseUri: '/sub', script: '', path: '/subway/x', query: '' },
    { name: 'a path outside the base URI', url: '/other', baseUri: '/sub', script: '', path: '/other', query: '' },
  ];
  for (const c of paths) {
    it(`splits SCRIPT_NAME and PATH_INFO: ${c.name}`, () => {
      const v = vars(request({ url: c.url }), c.baseUri);
      expect([v.SCRIPT_NAME, v.PATH_INFO, v.QUERY_STRING, v.REQUEST_URI]).to.deep.equal([c.script, c.path, c.query, c.url]);
    });
  }

  const headers: { name: string; raw: string[]; expected: Record<string, string>; absent?: string[] }[] = [
    { name: 'names upper-cased with - as _', raw: ['x-MiXed-Case', 'v', 'Accept', 'text/html'], expected: { HTTP_X_MIXED_CASE: 'v', HTTP_ACCEPT: 'text/html' } },
    { name: 'Content-Type without the HTTP_ prefix', raw: ['Content-Type', 'application/json'], expected: { CONTENT_TYPE: 'application/json' }, absent: ['HTTP_CONTENT_TYPE'] },
    { name: 'repeated headers joined with a comma', raw: ['X-A', '1', 'x-a', '2', 'X-A', '3'], expected: { HTTP_X_A: '1, 2, 3' } },
    { name: 'repeated cookies joined with a semicolon', raw: ['Cookie', 'a=1', 'Cookie', 'b=2'], expected: { HTTP_COOKIE: 'a=1; b=2' } },
    { name: 'framing headers left out', raw: ['Content-Length', '5', 'Transfer-Encoding', 'chunked', 'Keep-Alive', 'timeout=5', 'TE', 'trailers', 'Trailer', 'X-T'], expected: {}, absent: ['HTTP_CONTENT_LENGTH', 'HTTP_TRANSFER_ENCODING', 'HTTP_KEEP_ALIVE', 'HTTP_TE', 'HTTP_TRAILER'] },
    { name: 'Proxy left out (httpoxy: it would become HTTP_PROXY)', raw: ['Proxy', 'http://evil.test:1', 'X-Kept', 'yes'], expected: { HTTP_X_KEPT: 'yes' }, absent: ['HTTP_PROXY'] },
    { name: 'UTF-8 bytes in values passed through', raw: ['X-Name', 'caf\xc3\xa9'], expected: { HTTP_X_NAME: 'caf\xc3\xa9' } },
    { name: 'empty values kept', raw: ['X-Empty', ''], expected: { HTTP_X_EMPTY: '' } },
    { name: 'names with an underscore dropped, so they cannot merge into their dashed twin', raw: ['X_User_Id', 'evil', 'X-User-Id', 'good', 'X_Forwarded_Proto', 'https'], expected: { HTTP_X_USER_ID: 'good' }, absent: ['HTTP_X_FORWARDED_PROTO'] },
    { name: 'X-Forwarded-* from a peer not in trusted_proxies left out', raw: ['X-Forwarded-For', '6.6.6.6', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil.test'], expected: {}, absent: ['HTTP_X_FORWARDED_FOR', 'HTTP_X_FORWARDED_PROTO', 'HTTP_X_FORWARDED_HOST'] },
  ];
  for (const c of headers) {
    it(`maps request headers: ${c.name}`, () => {
      const v = vars(request({ rawHeaders: ['Host', 'h', ...c.raw] }));
      expect(v).to.deep.include(c.expected);
      for (const k of c.absent ?? []) expect(v).not.to.have.property(k);
    });
  }

  const bodies: { name: string; req: Partial<FrontRequest>; contentLength: string | undefined }[] = [
    { name: 'no body', req: {}, contentLength: undefined },
    { name: 'a body with a known length', req: { method: 'POST', body: someBody(), contentLength: 12345 }, contentLength: '12345' },
    { name: 'an empty body with a length', req: { method: 'POST', body: someBody(), contentLength: 0 }, contentLength: '0' },
    { name: 'a chunked body (length unknown)', req: { method: 'POST', body: someBody(), contentLength: undefined }, contentLength: undefined },
  ];
  for (const c of bodies) {
    it(`sets CONTENT_LENGTH only for a body of known length: ${c.name}`, () => {
      expect(vars(request(c.req)).CONTENT_LENGTH).to.equal(c.contentLength);
    });
  }

  it('sets HTTPS only for TLS clients, and SERVER_PROTOCOL from the request', () => {
    expect(vars(request({ https: true })).HTTPS).to.equal('on');
    expect(vars(request())).not.to.have.property('HTTPS');
    expect(vars(request({ httpVersion: '1.0' })).SERVER_PROTOCOL).to.equal('HTTP/1.0');
  });

  it('keeps X-Forwarded-* from a trusted proxy, appending the proxy to X-Forwarded-For', () => {
    const raw = ['Host', 'h', 'X-Forwarded-For', '203.0.113.9', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'shop.test', 'x-forwarded-for', '10.0.0.2'];
    expect(vars(request({ trustedProxy: true, remoteAddress: '10.0.0.1', rawHeaders: raw }))).to.deep.include({
      HTTP_X_FORWARDED_FOR: '203.0.113.9, 10.0.0.2, 10.0.0.1', HTTP_X_FORWARDED_PROTO: 'https', HTTP_X_FORWARDED_HOST: 'shop.test', REMOTE_ADDR: '10.0.0.1',
    });
    // The same with more headers than the linear scan handles.
    const many = Array.from({ length: 40 }, (_, i) => [`X-H${i}`, String(i)]).flat();
    expect(vars(request({ trustedProxy: true, remoteAddress: '10.0.0.1', rawHeaders: [...many, ...raw] })).HTTP_X_FORWARDED_FOR).to.equal('203.0.113.9, 10.0.0.2, 10.0.0.1');
    expect(vars(request({ trustedProxy: true, rawHeaders: ['Host', 'h'] }))).not.to.have.property('HTTP_X_FORWARDED_FOR');
  });

  it('frames a large head correctly', () => {
    const big = 'v'.repeat(200_000);
    expect(vars(request({ rawHeaders: ['X-Big', big] })).HTTP_X_BIG).to.equal(big);
  });
});
