// X-Forwarded-* for http_session apps: kept from a trusted proxy, replaced from anyone else.
import { expect } from 'chai';
import { upstreamHeaders } from '../../../core/protocols/http-request-head.ts';
import type { FrontRequest } from '../../../core/server/front.ts';

function request(over: Partial<FrontRequest> = {}): FrontRequest {
  return {
    method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Host', 'app.test:8080'],
    remoteAddress: '10.0.0.1', remotePort: 50000, serverName: 'app.test', serverPort: 8080,
    https: false, trustedProxy: false, body: null, contentLength: undefined, ...over,
  };
}

function headers(req: FrontRequest): Record<string, string[]> {
  const list = upstreamHeaders(req, { keepUpgrade: false, framing: true });
  const out: Record<string, string[]> = {};
  for (let i = 0; i < list.length; i += 2) (out[list[i]!.toLowerCase()] ??= []).push(list[i + 1]!);
  return out;
}

const claims = ['Host', 'app.test:8080', 'X-Forwarded-For', '203.0.113.9', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'shop.test', 'x-forwarded-for', '198.51.100.2'];

describe('upstreamHeaders (X-Forwarded-* for HTTP apps)', () => {
  it('replaces what a peer not in trusted_proxies claims, each header once', () => {
    const h = headers(request({ rawHeaders: claims }));
    expect(h['x-forwarded-for']).to.deep.equal(['10.0.0.1']);
    expect(h['x-forwarded-proto']).to.deep.equal(['http']);
    expect(h['x-forwarded-host']).to.deep.equal(['app.test:8080']);
  });

  it('keeps what a trusted proxy says, appending the proxy to X-Forwarded-For', () => {
    const h = headers(request({ rawHeaders: claims, trustedProxy: true }));
    expect(h['x-forwarded-for']).to.deep.equal(['203.0.113.9, 198.51.100.2, 10.0.0.1']);
    expect(h['x-forwarded-proto']).to.deep.equal(['https']);
    expect(h['x-forwarded-host']).to.deep.equal(['shop.test']);
    expect(h.host).to.deep.equal(['app.test:8080']);
  });

  it('fills in for a trusted proxy that sent no X-Forwarded-* of its own', () => {
    const h = headers(request({ trustedProxy: true, https: true }));
    expect(h['x-forwarded-for']).to.deep.equal(['10.0.0.1']);
    expect(h['x-forwarded-proto']).to.deep.equal(['https']);
    expect(h['x-forwarded-host']).to.deep.equal(['app.test:8080']);
  });
});
