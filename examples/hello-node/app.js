// The smallest Node.js app: passenger makes its listen() use a private socket.
const http = require('node:http');

http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`Hello from Node.js ${process.version}, process ${process.pid}\n`);
}).listen(3000);
