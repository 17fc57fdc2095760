// Hello world for the bench (Node): our server, Passenger 6 and the bare
// cluster all load this file; it listens on $PORT (or the Unix socket $SOCKET,
// behind nginx) when it runs on its own.
// Routes: / (tiny body), /1mib, POST /upload (counts the body), /sleep?ms=N, /pid.
'use strict';
const http = require('node:http');

const HELLO = Buffer.from('hello world\n');
const MIB = Buffer.alloc(1048576, 'x');

const server = http.createServer((req, res) => {
  if (req.url === '/1mib') {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': MIB.length });
    res.end(MIB);
  } else if (req.url === '/upload') {
    let total = 0;
    req.on('data', (chunk) => { total += chunk.length; });
    req.on('end', () => {
      const body = `${total}\n`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  } else if (req.url === '/pid') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(String(process.pid));
  } else if (req.url.startsWith('/sleep')) {
    const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') ?? 0);
    setTimeout(() => { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('slept\n'); }, ms);
  } else {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': HELLO.length });
    res.end(HELLO);
  }
});
if (process.env.SOCKET) server.listen(process.env.SOCKET);
else server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
