// The header rules the built-in engine applies on top of node's parser.
import { expect } from 'chai';
import { checkRequestHead, type ParsedHead } from '../../../../core/server/http/request-rules.ts';

function head(over: Partial<ParsedHead> = {}): ParsedHead {
  return { method: 'GET', url: '/', httpVersionMajor: 1, httpVersionMinor: 1, rawHeaders: ['Host', 'app.test'], ...over };
}

describe('HTTP request rules (RFC 9112, as nginx applies them)', () => {
  it('lets a plain request through unchanged', () => {
    const raw = ['Host', 'app.test:8080', 'X-User-Id', '7'];
    const v = checkRequestHead(head({ url: '/a?b', rawHeaders: raw }));
    expect(v).to.deep.equal({ ok: true, url: '/a?b', host: 'app.test:8080', rawHeaders: raw, dropped: [] });
  });

  it('refuses two Host headers with 400, naming Host', () => {
    const v = checkRequestHead(head({ rawHeaders: ['Host', 'a.test', 'X-A', '1', 'host', 'evil.test'] }));
    expect(v).to.deep.include({ ok: false, status: 400, header: 'Host' });
  });

  it('refuses an HTTP/1.1 request without Host with 400, naming Host; HTTP/1.0 may omit it', () => {
    expect(checkRequestHead(head({ rawHeaders: ['Accept', '*/*'] }))).to.deep.include({ ok: false, status: 400, header: 'Host' });
    expect(checkRequestHead(head({ httpVersionMinor: 0, rawHeaders: [] }))).to.deep.include({ ok: true, host: '' });
  });

  for (const bad of ['a.test/b', 'a.test, evil.test', 'a b', 'a"b', '[::1', 'a.test:80x', 'a\\b']) {
    it(`refuses the Host value ${JSON.stringify(bad)} with 400`, () => {
      const v = checkRequestHead(head({ rawHeaders: ['Host', bad] }));
      expect(v).to.deep.include({ ok: false, status: 400, header: 'Host' });
    });
  }

  for (const good of ['', 'a.test', 'a.test:8080', '127.0.0.1:3000', '[::1]:3000', 'xn--bcher-kva.example', 'under_score.test']) {
    it(`accepts the Host value ${JSON.stringify(good)}`, () => {
      expect(checkRequestHead(head({ rawHeaders: ['Host', good] }))).to.deep.include({ ok: true, host: good });
    });
  }

  it('answers 501 to a Transfer-Encoding other than chunked, naming the header and the value', () => {
    for (const te of ['gzip, chunked', 'identity', 'chunked, gzip', 'x-custom']) {
      const v = checkRequestHead(head({ method: 'POST', rawHeaders: ['Host', 'a', 'Transfer-Encoding', te] }));
      expect(v, te).to.deep.include({ ok: false, status: 501, header: 'Transfer-Encoding' });
      expect((v as { message: string }).message).to.include(JSON.stringify(te));
    }
    expect(checkRequestHead(head({ method: 'POST', rawHeaders: ['Host', 'a', 'Transfer-Encoding', ' Chunked '] })).ok).to.equal(true);
  });

  it('refuses two Transfer-Encoding headers, and one in an HTTP/1.0 request, with 400', () => {
    expect(checkRequestHead(head({ rawHeaders: ['Host', 'a', 'Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'] })))
      .to.deep.include({ ok: false, status: 400, header: 'Transfer-Encoding' });
    expect(checkRequestHead(head({ httpVersionMinor: 0, rawHeaders: ['Transfer-Encoding', 'chunked'] })))
      .to.deep.include({ ok: false, status: 400, header: 'Transfer-Encoding' });
  });

  it('drops header names with an underscore, so they cannot merge into a dashed twin', () => {
    const v = checkRequestHead(head({ rawHeaders: ['Host', 'a', 'X_User_Id', 'evil', 'X-User-Id', 'good', 'x_forwarded_proto', 'https'] }));
    expect(v).to.deep.include({ ok: true, rawHeaders: ['Host', 'a', 'X-User-Id', 'good'], dropped: ['X_User_Id', 'x_forwarded_proto'] });
  });

  it('takes Host from an absolute-form target and turns the target into origin form', () => {
    expect(checkRequestHead(head({ url: 'http://real.test:81/x?y=1', rawHeaders: ['Host', 'other.test', 'Accept', '*/*'] })))
      .to.deep.equal({ ok: true, url: '/x?y=1', host: 'real.test:81', rawHeaders: ['Host', 'real.test:81', 'Accept', '*/*'], dropped: [] });
    expect(checkRequestHead(head({ url: 'HTTPS://real.test', rawHeaders: [], httpVersionMinor: 0 })))
      .to.deep.equal({ ok: true, url: '/', host: 'real.test', rawHeaders: ['Host', 'real.test'], dropped: [] });
    expect(checkRequestHead(head({ url: 'http://real.test?q' }))).to.deep.include({ ok: true, url: '/?q', host: 'real.test' });
  });

  for (const target of ['ftp://a.test/x', 'http://user:pw@a.test/x', 'http:///x', 'http://a b/x']) {
    it(`refuses the request target ${JSON.stringify(target)} with 400`, () => {
      expect(checkRequestHead(head({ url: target }))).to.deep.include({ ok: false, status: 400 });
    });
  }

  it('keeps OPTIONS * as it is', () => {
    expect(checkRequestHead(head({ method: 'OPTIONS', url: '*' }))).to.deep.include({ ok: true, url: '*' });
    expect(checkRequestHead(head({ method: 'GET', url: '*' }))).to.deep.include({ ok: false, status: 400 });
  });

  it('refuses HTTP/0.9 with 400 and HTTP/2 or later in a text request line with 505', () => {
    expect(checkRequestHead(head({ httpVersionMajor: 0, httpVersionMinor: 9, rawHeaders: [] }))).to.deep.include({ ok: false, status: 400 });
    expect(checkRequestHead(head({ httpVersionMajor: 2, httpVersionMinor: 0 }))).to.deep.include({ ok: false, status: 505 });
  });

  it('cuts a hostile value short in the message', () => {
    const v = checkRequestHead(head({ rawHeaders: ['Host', `a/${'x'.repeat(5000)}`] }));
    expect((v as { message: string }).message.length).to.be.below(200);
  });
});
