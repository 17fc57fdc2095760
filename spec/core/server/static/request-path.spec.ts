// Which file a request path names under the static directory, and which
// precompressed codings a client accepts: the pure decisions of server/static/.
import { expect } from 'chai';
import { staticPath } from '../../../../core/server/static/request-path.ts';
import { acceptedCodings } from '../../../../core/server/static/accept-encoding.ts';

describe('static files: request paths', () => {
  it('decodes and normalises a path inside the directory', () => {
    expect(staticPath('/css/a%20b.css?v=1', '/')).to.deep.equal({ kind: 'path', rel: 'css/a b.css', trailingSlash: false, rawPath: '/css/a%20b.css', query: '?v=1' });
    expect(staticPath('/docs/./x/../index.html', '/')).to.include({ kind: 'path', rel: 'docs/index.html' });
    expect(staticPath('/', '/')).to.include({ kind: 'path', rel: '', trailingSlash: true });
  });

  it('refuses .. above the root (raw or encoded) and NUL', () => {
    for (const url of ['/../x', '/%2e%2e/x', '/a/%2E%2E/%2e%2e/x', '/x%00.css']) expect(staticPath(url, '/').kind, url).to.equal('bad');
  });

  it('leaves encoded slashes, backslashes, dot files, bad encodings and non-origin targets to the app', () => {
    for (const url of ['/a%2fb', '/a%5Cb', '/a\\b', '/.env', '/.git/config', '/%zz', '//evil.example/x', 'http://h/x', '*']) {
      expect(staticPath(url, '/').kind, url).to.equal('none');
    }
    expect(staticPath('/.well-known/acme-challenge/t', '/').kind).to.equal('path');
  });

  it('strips base_uri, and ignores paths outside it', () => {
    expect(staticPath('/app/style.css', '/app')).to.include({ kind: 'path', rel: 'style.css' });
    expect(staticPath('/app/style.css', '/app/')).to.include({ kind: 'path', rel: 'style.css' });
    expect(staticPath('/application/style.css', '/app').kind).to.equal('none');
    expect(staticPath('/other.css', '/app').kind).to.equal('none');
  });
});

describe('static files: Accept-Encoding', () => {
  it('reads codings and q-values', () => {
    expect(acceptedCodings(undefined)).to.deep.equal({ br: false, gzip: false });
    expect(acceptedCodings('gzip, deflate, br')).to.deep.equal({ br: true, gzip: true });
    expect(acceptedCodings('br;q=0, gzip;q=0.5')).to.deep.equal({ br: false, gzip: true });
    expect(acceptedCodings('BR ; Q=1.0')).to.deep.equal({ br: true, gzip: false });
    expect(acceptedCodings('x-gzip')).to.deep.equal({ br: false, gzip: true });
  });

  it('lets * stand for the codings not named', () => {
    expect(acceptedCodings('*')).to.deep.equal({ br: true, gzip: true });
    expect(acceptedCodings('gzip;q=0, *')).to.deep.equal({ br: true, gzip: false });
    expect(acceptedCodings('br, *;q=0')).to.deep.equal({ br: true, gzip: false });
  });
});
