// The access log's line formats as pure functions: combined lines stay one
// line with their fields intact whatever the client sends, and secret-named
// query parameters are masked, only those.
import { expect } from 'chai';
import fc from 'fast-check';
import { formatCombined, formatDev, formatJson, maskQuery } from '../../../core/log/access-format.ts';
import type { RequestEvent } from '../../../core/hooks.ts';
import type { AppSpec } from '../../../core/config/app-spec.ts';

function event(over: Partial<{ url: string; rawHeaders: string[]; status: number; pid: number; requestId: string; rejection: RequestEvent['rejection'] }> = {}): RequestEvent {
  return {
    app: { name: 'shop' } as AppSpec,
    request: {
      method: 'GET', url: over.url ?? '/', httpVersion: '1.1', rawHeaders: over.rawHeaders ?? [], remoteAddress: '::1', remotePort: 1,
      serverName: 'x', serverPort: 80, https: false, trustedProxy: false, body: null, contentLength: undefined,
      ...(over.requestId !== undefined ? { requestId: over.requestId } : {}),
    },
    startedAt: 0, queueMs: 0.25, pid: over.pid ?? 42, status: over.status ?? 200, bytes: 5, durationMs: 1.5, rejection: over.rejection, aborted: false,
  };
}

describe('access log formats', () => {
  it('masks the values of secret-named query parameters and nothing else', () => {
    expect(maskQuery('/a')).to.equal('/a');
    expect(maskQuery('/a?page=2&q=token')).to.equal('/a?page=2&q=token');
    expect(maskQuery('/a?access_token=abc&page=2&apiKey=x1&password=&session%5Fid=9')).to.equal('/a?access_token=••••••&page=2&apiKey=••••••&password=&session%5Fid=••••••');
  });

  it('escapes quotes and control characters in combined lines, as nginx does', () => {
    const line = formatCombined(event({ url: '/"x"', rawHeaders: ['User-Agent', 'evil"\n127.0.0.1 - - [forged]', 'Referer', 'a\\b'], requestId: 'r1' }), Date.UTC(2026, 11, 5, 12, 0, 9));
    expect(line).to.equal('::1 - - [05/Dec/2026:12:00:09 +0000] "GET /\\x22x\\x22 HTTP/1.1" 200 5 "a\\x5cb" "evil\\x22\\x0a127.0.0.1 - - [forged]" request_id=r1 app="shop" pid=42 duration_ms=1.500 queue_ms=0.250');
    expect(line.split('\n')).to.have.length(1);
  });

  it('says what is missing and why the server answered itself', () => {
    const refused = event({ status: 503, pid: 0, rejection: 'queue_full' });
    expect(formatCombined(refused, 0)).to.match(/ 503 5 "-" "-" request_id=- app="shop" pid=- duration_ms=1\.500 queue_ms=0\.250 rejected=queue_full$/);
    expect(JSON.parse(formatJson(refused, 0))).to.include({ pid: null, request_id: null, rejection: 'queue_full', status: 503 });
    expect(formatDev(refused)).to.equal('[passenger] [shop] GET / 503 5 B 1.5 ms (queue_full)');
  });

  it('gives JSON lines the time as toISOString would, at any millisecond (made once per second)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }), fc.double({ min: 0, max: 0.999, noNaN: true }), (ms, fraction) => {
      const now = ms + fraction;
      expect(JSON.parse(formatJson(event(), now)).time).to.equal(new Date(now).toISOString());
      // The same second again (the cached part), then another millisecond of it.
      const later = now - (ms % 1000) + ((ms * 7) % 1000);
      expect(JSON.parse(formatJson(event(), later)).time).to.equal(new Date(later).toISOString());
    }), { numRuns: 2000 });
  });
});
