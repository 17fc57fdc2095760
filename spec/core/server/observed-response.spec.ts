// Request events cost nothing until a plugin taps them: the kernel's guarded
// hooks report isUsed() by their taps (tapable counts the guard's interceptor
// as use), and observe() hands back the client's own response. Trace context
// parsing follows the W3C rules.
import { expect } from 'chai';
import { Kernel } from '../../../core/kernel.ts';
import { ObservedResponse, observe } from '../../../core/server/observed-response.ts';
import { applyTraceContext, traceIdOf } from '../../../core/server/trace-context.ts';
import type { FrontRequest, FrontResponse } from '../../../core/server/front.ts';
import type { AppSpec } from '../../../core/config/app-spec.ts';
import type { RequestEvent } from '../../../core/hooks.ts';
import { createLogger } from '../../../core/log/logger.ts';

function request(headers: string[] = []): FrontRequest {
  return {
    method: 'GET', url: '/', httpVersion: '1.1', rawHeaders: ['Host', 'x', ...headers], remoteAddress: '127.0.0.1', remotePort: 1,
    serverName: 'x', serverPort: 80, https: false, trustedProxy: false, body: null, contentLength: undefined,
  };
}

function app(traceContext = false, requestId = false): AppSpec {
  return { appRoot: '/srv/app', name: 'app', appType: 'node', startupFile: '/srv/app/app.js', detectReason: '', options: { trace_context: traceContext, request_id: requestId } as unknown as AppSpec['options'], sources: {} };
}

/** The client's side: what reached it. */
class Sink implements FrontResponse {
  headersSent = false;
  clientGone = false;
  written: Buffer[] = [];
  ended = false;
  headers: string[] = [];
  writeHead(_status: number, _reason: string, headers: string[]): void { this.headersSent = true; this.headers = headers; }
  write(chunk: Buffer): boolean { this.written.push(chunk); return true; }
  holdsData(): boolean { return false; }
  end(): void { this.ended = true; }
  abort(): void { this.ended = true; }
  onDrain(): void {}
  onClose(): void {}
}

describe('request events (observe)', () => {
  const kernel = () => new Kernel(createLogger('error'));

  it('builds nothing while no plugin taps the request hooks', () => {
    const k = kernel();
    expect(k.hooks.requestStarted.isUsed()).to.equal(false);
    expect(k.hooks.requestFinished.isUsed()).to.equal(false);
    const sink = new Sink();
    expect(observe(k.hooks, app(), request(), sink)).to.equal(sink);
  });

  it('with request_id on, wraps the response to put the X-Request-Id on it, unless the app set one', () => {
    const k = kernel();
    const req = request();
    const sink = new Sink();
    const out = observe(k.hooks, app(false, true), req, sink);
    expect(out).to.be.instanceOf(ObservedResponse);
    expect(req.requestId).to.match(/^[0-9a-f-]{36}$/);
    expect(req.rawHeaders.slice(-2)).to.deep.equal(['X-Request-Id', req.requestId]);
    out.writeHead(200, 'OK', ['Content-Type', 'text/plain']);
    expect(sink.headers).to.deep.equal(['Content-Type', 'text/plain', 'X-Request-Id', req.requestId]);
    const own = new Sink();
    observe(k.hooks, app(false, true), request(), own).writeHead(200, 'OK', ['x-request-id', 'the-apps']);
    expect(own.headers).to.deep.equal(['x-request-id', 'the-apps']);
  });

  it('wraps the response once tapped, and reports status, bytes and timing once', () => {
    const k = kernel();
    const seen: { kind: string; status: number; bytes: number; durationMs: number }[] = [];
    const note = (kind: string) => (e: RequestEvent) => { seen.push({ kind, status: e.status, bytes: e.bytes, durationMs: e.durationMs }); };
    k.hooks.requestStarted.tap('t', note('started'));
    k.hooks.requestFinished.tap('t', note('finished'));
    expect(k.hooks.requestFinished.isUsed()).to.equal(true);
    const sink = new Sink();
    const out = observe(k.hooks, app(), request(), sink);
    expect(out).to.be.instanceOf(ObservedResponse);
    out.writeHead(201, 'Created', []);
    out.write(Buffer.from('hello'));
    out.end();
    (out as ObservedResponse).settle();
    expect(sink.ended).to.equal(true);
    expect(Buffer.concat(sink.written).toString()).to.equal('hello');
    expect(seen.map((s) => [s.kind, s.status, s.bytes])).to.deep.equal([['started', 0, 0], ['finished', 201, 5]]);
    expect(seen[1]!.durationMs).to.be.at.least(0);
  });
});

describe('guarded notification taps', () => {
  it('pass every argument on, and a throwing tap is logged by name without stopping the others', () => {
    const lines: string[] = [];
    const k = new Kernel(createLogger('error', (l) => lines.push(l)));
    const got: unknown[][] = [];
    k.hooks.processExited.tap('first', () => { throw new Error('boom'); });
    k.hooks.processExited.tap('second', (p, e) => { got.push([p.pid, e.reason]); });
    k.hooks.processExited.call({ pid: 7, appRoot: '/a', appType: 'node' }, { code: null, signal: 'SIGKILL', reason: 'crash' });
    expect(got).to.deep.equal([[7, 'crash']]);
    expect(lines).to.deep.equal(['[passenger] ERROR: plugin first failed in hook processExited: boom']);
  });
});

describe('trace context', () => {
  it('accepts only well-formed traceparent values', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future')).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
    for (const bad of ['', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01']) {
      expect(traceIdOf(bad), bad).to.equal(undefined);
    }
  });

  it('adds a traceparent when absent and keeps a valid one as it is', () => {
    const fresh = request();
    applyTraceContext(fresh);
    const added = fresh.rawHeaders[fresh.rawHeaders.indexOf('traceparent') + 1]!;
    expect(traceIdOf(added)).to.equal(fresh.traceId);
    const kept = request(['TraceParent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00']);
    applyTraceContext(kept);
    expect(kept.rawHeaders).to.deep.equal(['Host', 'x', 'TraceParent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00']);
    expect(kept.traceId).to.equal('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('is applied by observe() only when the app has trace_context on', () => {
    const k = new Kernel(createLogger('error'));
    const off = request();
    observe(k.hooks, app(false), off, new Sink());
    expect(off.traceId).to.equal(undefined);
    const on = request();
    observe(k.hooks, app(true), on, new Sink());
    expect(on.traceId).to.match(/^[0-9a-f]{32}$/);
  });
});
