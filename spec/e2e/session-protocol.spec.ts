// The core's side of the session protocol through `passenger run`, against a
// deliberately broken app (spec/fixtures/apps/session-raw) whose loader sends
// back, byte for byte, the response each request carries in its body.
import { expect } from 'chai';
import http from 'node:http';
import { fixtureApp, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';

interface Outcome {
  /** The response head, if one reached the client. */
  status?: number;
  headers?: http.IncomingHttpHeaders;
  body: string;
  /** True only when the whole response arrived as framed. */
  complete: boolean;
  error?: string;
}

/** One request on its own connection; never rejects, so broken answers can be inspected. */
function send(url: string, opts: { method?: string; raw?: string; rawHeader?: string; headers?: Record<string, string> } = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.rawHeader !== undefined) headers['X-Raw-Response'] = Buffer.from(opts.rawHeader, 'latin1').toString('base64');
    const out: Outcome = { body: '', complete: false };
    let done = false;
    const finish = () => { if (!done) { done = true; clearTimeout(timer); resolve(out); } };
    const timer = setTimeout(() => { out.error = 'client timeout'; req.destroy(); finish(); }, 20000);
    const req = http.request(url, { method: opts.method ?? (opts.raw !== undefined ? 'POST' : 'GET'), headers, agent: false }, (res) => {
      out.status = res.statusCode;
      out.headers = res.headers;
      res.setEncoding('latin1');
      res.on('data', (c: string) => { out.body += c; });
      res.on('end', () => { out.complete = res.complete; finish(); });
      res.on('aborted', () => { out.error = 'aborted'; });
      res.on('error', (e) => { out.error = e.message; finish(); });
      res.on('close', finish);
    });
    req.on('error', (e) => { out.error = e.message; finish(); });
    req.end(opts.raw !== undefined ? Buffer.from(opts.raw, 'latin1') : undefined);
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('session protocol: responses from a broken app', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let loaderPid = 0;
  before(async () => {
    p = await startPassenger(fixtureApp('session-raw'), { args: ['--max-instances', '1'] });
    const r = await send(`${p.url}/whoami`);
    expect(r.status).to.equal(200);
    loaderPid = Number(/raw loader (\d+) GET \/whoami/.exec(r.body)![1]);
  });
  after(async () => { await stopAndClean(p); p = undefined; });

  const badHeads: { name: string; raw: string; why: RegExp }[] = [
    { name: 'not HTTP at all', raw: 'hello there\r\n\r\n', why: /invalid status line "hello there"/ },
    { name: 'a status line without a code', raw: 'HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n', why: /invalid status line "HTTP\/1\.1 OK"/ },
    { name: 'a status code above 599', raw: 'HTTP/1.1 700 Odd\r\nContent-Length: 0\r\n\r\n', why: /invalid status code 700/ },
    { name: 'a status code below 100', raw: 'HTTP/1.1 042 Odd\r\nContent-Length: 0\r\n\r\n', why: /invalid status code 42/ },
    { name: 'a header line without a colon', raw: 'HTTP/1.1 200 OK\r\nnot a header\r\nContent-Length: 0\r\n\r\n', why: /invalid header line "not a header"/ },
    { name: 'a space in a header name', raw: 'HTTP/1.1 200 OK\r\nX Bad: 1\r\nContent-Length: 0\r\n\r\n', why: /invalid header name "X Bad"/ },
    { name: 'a CR in a header name', raw: 'HTTP/1.1 200 OK\r\nX-\rBad: 1\r\nContent-Length: 0\r\n\r\n', why: /invalid header name/ },
    { name: 'a LF in a header name', raw: 'HTTP/1.1 200 OK\r\nX-A\nSet-Cookie: injected=1\r\nContent-Length: 0\r\n\r\n', why: /invalid header name/ },
    { name: 'a CR in a header value', raw: 'HTTP/1.1 200 OK\r\nX-A: one\rtwo\r\nContent-Length: 0\r\n\r\n', why: /header "X-A" has a CR, LF or NUL in its value/ },
    { name: 'a LF in a header value (header injection)', raw: 'HTTP/1.1 200 OK\r\nX-A: one\nSet-Cookie: injected=1\r\nContent-Length: 0\r\n\r\n', why: /header "X-A" has a CR, LF or NUL in its value/ },
    { name: 'a CR ending a header value', raw: 'HTTP/1.1 200 OK\r\nX-A: one\r\r\nContent-Length: 0\r\n\r\n', why: /header "X-A" has a CR, LF or NUL in its value/ },
    { name: 'a NUL in a header value', raw: 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 0\r\n\r\n', why: /header "X-A" has a CR, LF or NUL in its value/ },
    { name: 'an invalid Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\nhello', why: /invalid Content-Length "5x"/ },
    { name: 'conflicting Content-Lengths', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', why: /invalid Content-Length "6"/ },
    { name: 'Content-Length and chunked together', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', why: /both Content-Length and Transfer-Encoding: chunked/ },
    { name: 'an unsupported Transfer-Encoding', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx', why: /unsupported Transfer-Encoding "gzip"/ },
    { name: 'a head larger than 64 KiB', raw: `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(70000)}\r\nContent-Length: 0\r\n\r\n`, why: /response head larger than 65536 bytes/ },
    { name: 'a 101 without any upgrade', raw: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', why: /101 Switching Protocols, but the session protocol has no upgrades/ },
    { name: 'an interim 100 and no final response', raw: 'HTTP/1.1 100 Continue\r\n\r\n', why: /connection closed after an interim \(1xx\) response/ },
    { name: 'a head cut off before its empty line', raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n', why: /connection closed in the middle of the response head/ },
    { name: 'a head ended with bare LFs', raw: 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', why: /connection closed in the middle of the response head/ },
  ];
  badHeads.forEach((c, i) => {
    it(`answers 502 and logs why for ${c.name}`, async () => {
      const path = `/bad-head-${i}`;
      const r = await send(`${p!.url}${path}`, { raw: c.raw, headers: { Accept: 'application/json' } });
      expect(r.error).to.equal(undefined);
      expect(r.status).to.equal(502);
      expect(r.complete).to.equal(true);
      const j = JSON.parse(r.body) as { error: string; code: string };
      expect(j.code).to.equal('PSG_ERR_APP_RESPONSE');
      expect(j.error).to.match(c.why);
      expect(r.headers).not.to.have.property('set-cookie');
      expect(r.headers).not.to.have.property('x-a');
      // One log line per failure, naming the request, the app, the process and the reason.
      const line = await p!.waitForOutput(new RegExp(`POST ${escape(path)} -> session-raw process ${loaderPid}: .*$`, 'm'));
      expect(line).to.match(c.why);
    });
  });

  it('answers 502 when the app closes the connection without answering', async () => {
    const r = await send(`${p!.url}/says-nothing`, { rawHeader: '' });
    expect(r.status).to.equal(502);
    expect(r.body).to.match(/^502 Bad Gateway: .*connection closed without a response/);
    await p!.waitForOutput(new RegExp(`GET /says-nothing -> session-raw process ${loaderPid}: .*connection closed without a response`));
  });

  const cutShort: { name: string; raw: string; why: RegExp }[] = [
    { name: 'a Content-Length body cut short', raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly 23 bytes of a 100.', why: /response truncated: 77 of the announced Content-Length bytes missing/ },
    { name: 'a chunked body without its last chunk', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst \r\n6\r\nsecond\r\n', why: /the chunked body ended without its final chunk/ },
    { name: 'a chunked body cut inside a chunk', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\nnot thirty-two bytes', why: /the chunked body ended without its final chunk/ },
    { name: 'an invalid chunk size after the head', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nnope\r\n', why: /invalid chunk size line "nope"/ },
    { name: 'chunk data longer than its size', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\ntoo long\r\n0\r\n\r\n', why: /chunk data not followed by CRLF/ },
  ];
  cutShort.forEach((c, i) => {
    it(`never presents ${c.name} as complete, and logs why`, async () => {
      const path = `/cut-short-${i}`;
      const r = await send(`${p!.url}${path}`, { raw: c.raw });
      // The head may or may not have reached the client before the abort; a complete response never does.
      expect(r.complete, `outcome: ${JSON.stringify(r)}`).to.equal(false);
      expect(r.error).to.be.a('string');
      if (r.status !== undefined) expect(r.status).to.equal(200);
      const line = await p!.waitForOutput(new RegExp(`POST ${escape(path)} -> session-raw process ${loaderPid}: .*$`, 'm'));
      expect(line).to.match(c.why);
    });
  });

  const accepted: { name: string; raw?: string; method?: string; status: number; body: string; headers?: Record<string, string> }[] = [
    { name: 'a Content-Length response', raw: 'HTTP/1.1 201 Created\r\nX-Ok: yes\r\nContent-Length: 5\r\n\r\nfive!', status: 201, body: 'five!', headers: { 'x-ok': 'yes', 'content-length': '5' } },
    { name: 'a chunked response (re-chunked for the client)', raw: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n', status: 200, body: 'abcdefg' },
    { name: 'an unframed response, read until the app closes', raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close', status: 200, body: 'until close' },
    { name: 'a repeated identical Content-Length', raw: 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\ndupe', status: 200, body: 'dupe', headers: { 'content-length': '4' } },
    { name: 'hop-by-hop headers from the app (dropped)', raw: 'HTTP/1.1 200 OK\r\nConnection: close\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok', status: 200, body: 'ok' },
    { name: 'interim 100 and 103 responses before the final one (skipped)', raw: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal', status: 200, body: 'final' },
    { name: 'a 204 without a body', raw: 'HTTP/1.1 204 No Content\r\nX-Ok: yes\r\n\r\n', status: 204, body: '', headers: { 'x-ok': 'yes' } },
    { name: 'optional whitespace around a value', raw: 'HTTP/1.1 200 OK\r\nX-Ok:  \tpadded\t \r\nContent-Length: 0\r\n\r\n', status: 200, body: '', headers: { 'x-ok': 'padded' } },
  ];
  for (const c of accepted) {
    it(`passes on ${c.name}`, async () => {
      const r = await send(`${p!.url}/accepted`, { raw: c.raw });
      expect(r.error).to.equal(undefined);
      expect(r.complete).to.equal(true);
      expect(r.status).to.equal(c.status);
      expect(r.body).to.equal(c.body);
      expect(r.headers).not.to.have.property('keep-alive', 'timeout=1');
      for (const [k, v] of Object.entries(c.headers ?? {})) expect(r.headers![k]).to.equal(v);
    });
  }

  it('passes on the head of a HEAD response whose Content-Length describes the GET body', async () => {
    const r = await send(`${p!.url}/head`, { method: 'HEAD', rawHeader: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n' });
    expect(r.status).to.equal(200);
    expect(r.headers!['content-length']).to.equal('1234');
    expect(r.complete).to.equal(true);
  });

  it('keeps serving from the same process after all of that', async () => {
    const r = await send(`${p!.url}/still-here`);
    expect(r.status).to.equal(200);
    expect(r.body).to.equal(`raw loader ${loaderPid} GET /still-here\n`);
  });
});

describe('session protocol: real loaders failing in the middle of a response', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; });

  const alivePid = async (url: string) => Number(/alive (\d+)/.exec((await send(url)).body)?.[1]);

  it('Rack: a body that raises after its first chunk reaches the client as aborted, and the process keeps serving', async () => {
    p = await startPassenger(fixtureApp('rack-midstream'), { args: ['--max-instances', '1'] });
    const pid = await alivePid(`${p.url}/`);
    const r = await send(`${p.url}/raise-midstream`);
    expect(r.status).to.equal(200);
    expect(r.body.startsWith('first chunk\n')).to.equal(true);
    expect(r.complete).to.equal(false);
    await p.waitForOutput(/broke after the first chunk \(IOError\)/);
    await p.waitForOutput(new RegExp(`GET /raise-midstream -> rack-midstream process ${pid}: .*ended without its final chunk`));
    expect(await alivePid(`${p.url}/`)).to.equal(pid);
  });

  it('Rack: a process that dies mid-body gives an aborted response, and a new process serves the next request', async () => {
    p = await startPassenger(fixtureApp('rack-midstream'), { args: ['--max-instances', '1'] });
    const pid = await alivePid(`${p.url}/`);
    const r = await send(`${p.url}/die-midstream`);
    expect(r.body.startsWith('first chunk\n')).to.equal(true);
    expect(r.complete).to.equal(false);
    await p.waitForOutput(new RegExp(`GET /die-midstream -> rack-midstream process ${pid}: `));
    const next = await alivePid(`${p.url}/`);
    expect(next).to.be.a('number').and.not.equal(pid);
  });

  it('Rack: a body shorter than its Content-Length is never presented as complete', async () => {
    p = await startPassenger(fixtureApp('rack-midstream'));
    const r = await send(`${p.url}/short`);
    expect(r.complete).to.equal(false);
    expect(r.body.length).to.be.below(100);
  });

  it('WSGI: a generator that raises after its first chunk reaches the client as aborted', async () => {
    p = await startPassenger(fixtureApp('wsgi-edges'), { args: ['--max-instances', '1'] });
    const r = await send(`${p.url}/fail-midstream`);
    expect(r.complete).to.equal(false);
    if (r.status !== undefined) expect(r.status).to.equal(200);
    await p.waitForOutput(/RuntimeError: broke after the first chunk/);
    await p.waitForOutput(/GET \/fail-midstream -> wsgi-edges process \d+: .*ended without its final chunk/);
    expect((await send(`${p.url}/latin1-header`)).status).to.equal(200);
  });
});
