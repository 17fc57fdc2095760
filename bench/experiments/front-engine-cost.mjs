// bench/experiments/front-engine-cost.sh runs this: a hello-world answer from node:http (http) or from a minimal head parser on net (lean).
import http from 'node:http';
import net from 'node:net';
const kind = process.argv[2];
const BODY = 'hello world\n';
if (kind === 'http') {
  http.createServer((req, res) => { res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', String(BODY.length)]); res.end(BODY); })
    .listen(0, '127.0.0.1', function () { console.log(this.address().port); });
} else {
  const RESP = `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${BODY.length}\r\nDate: x\r\n\r\n${BODY}`;
  net.createServer((sock) => {
    let pending = '';
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      let s = pending.length ? pending + d.toString('latin1') : d.toString('latin1');
      let out = '';
      for (;;) {
        const end = s.indexOf('\r\n\r\n');
        if (end < 0) break;
        // request line + headers into an array, as an engine would
        const lines = s.slice(0, end).split('\r\n');
        const [method, url, ver] = lines[0].split(' ');
        const raw = [];
        for (let i = 1; i < lines.length; i++) { const l = lines[i]; const c = l.indexOf(':'); raw.push(l.slice(0, c), l.slice(c + 1).trim()); }
        if (!method || !url || !ver) { sock.destroy(); return; }
        out += RESP;
        s = s.slice(end + 4);
      }
      pending = s;
      if (out) sock.write(out);
    });
    sock.on('error', () => {});
  }).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
}
