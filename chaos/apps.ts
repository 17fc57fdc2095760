// The apps every fault runs against: a Rack, a Node and a WSGI app with the
// same three routes, written to throwaway directories.
//   GET /            "ok" (the load loop's request)
//   GET /big?mb=N    N MiB with a Content-Length (slow readers)
//   POST /sha256     reads the whole body; answers its length and SHA-256 (uploads)
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export type AppKind = 'rack' | 'node' | 'wsgi';

const FILES: Record<AppKind, Record<string, string>> = {
  rack: {
    'config.ru': `require 'digest'
MIB = ('x' * 1048576).freeze
class Big
  def initialize(mb) = @mb = mb
  def each = @mb.times { yield MIB }
end
run lambda { |env|
  case env['PATH_INFO']
  when '/big'
    mb = env['QUERY_STRING'][/mb=(\\d+)/, 1].to_i
    [200, { 'content-type' => 'application/octet-stream', 'content-length' => (mb * 1048576).to_s }, Big.new(mb)]
  when '/sha256'
    digest = Digest::SHA256.new
    bytes = 0
    input = env['rack.input']
    while (chunk = input.read(262144))
      digest << chunk
      bytes += chunk.bytesize
    end
    [200, { 'content-type' => 'application/json' }, [%({"bytes":#{bytes},"sha256":"#{digest.hexdigest}"})]]
  else
    [200, { 'content-type' => 'text/plain' }, ['ok']]
  end
}
`,
  },
  node: {
    'package.json': '{ "name": "chaos-node", "private": true }\n',
    'app.js': `const http = require('http');
const crypto = require('crypto');
const MIB = Buffer.alloc(1048576, 'x');
http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/big') {
    const mb = Number(url.searchParams.get('mb'));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': mb * 1048576 });
    let sent = 0;
    const more = () => { while (sent < mb) { sent++; if (!res.write(MIB)) return res.once('drain', more); } res.end(); };
    more();
    return;
  }
  if (url.pathname === '/sha256') {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    req.on('data', (d) => { hash.update(d); bytes += d.length; });
    req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') })));
    return;
  }
  res.end('ok');
}).listen(process.env.PORT);
`,
  },
  wsgi: {
    'passenger_wsgi.py': `import hashlib
MIB = b'x' * 1048576

def application(environ, start_response):
    path = environ.get('PATH_INFO', '/')
    if path == '/big':
        mb = int(environ.get('QUERY_STRING', 'mb=0').split('=')[1])
        start_response('200 OK', [('Content-Type', 'application/octet-stream'), ('Content-Length', str(mb * 1048576))])
        return (MIB for _ in range(mb))
    if path == '/sha256':
        digest = hashlib.sha256()
        total = 0
        remaining = int(environ.get('CONTENT_LENGTH') or 0)
        stream = environ['wsgi.input']
        while remaining > 0:
            chunk = stream.read(min(262144, remaining))
            if not chunk:
                break
            digest.update(chunk)
            total += len(chunk)
            remaining -= len(chunk)
        body = ('{"bytes":%d,"sha256":"%s"}' % (total, digest.hexdigest())).encode()
        start_response('200 OK', [('Content-Type', 'application/json')])
        return [body]
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok']
`,
  },
};

/** Writes the app to a fresh directory; returns it and a function that removes it. */
export function makeChaosApp(kind: AppKind): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `psg-chaos-${kind}-`));
  for (const [rel, content] of Object.entries(FILES[kind])) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
