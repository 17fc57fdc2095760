// The physical limit: app.js with no proxy in front, as WORKERS processes
// sharing the port through node:cluster (the same process count as the servers).
'use strict';
const cluster = require('node:cluster');
const path = require('node:path');

if (cluster.isPrimary) {
  const workers = Number(process.env.WORKERS ?? 2);
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    process.exit(0);
  });
} else {
  require(path.join(__dirname, 'app.js'));
}
