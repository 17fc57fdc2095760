// Node.js loader (docs/protocols.md section 1). Not for users to run.
//
// Steps: read the handshake, load the app (CommonJS or ESM), redirect the
// first server.listen() the app makes to a private Unix socket, report that
// socket as http_session, and exit when stdin gets a byte or closes.
'use strict';

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const crypto = require('node:crypto');
const { pathToFileURL } = require('node:url');

/** Control lines are written synchronously and whole, so app output cannot split them. */
function control(lines) {
  fs.writeSync(1, lines.map((l) => `!> ${l}\n`).join(''));
}

function readArguments() {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let greeted = false;
    const args = {};
    const onData = (chunk) => {
      buffer += chunk.toString('utf8');
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (!greeted) {
          if (line !== 'You have control 1.0') return fail(new Error(`unexpected handshake reply "${line}"`));
          greeted = true;
        } else if (line === '') {
          process.stdin.off('data', onData);
          process.stdin.off('end', onEnd);
          return resolve(args);
        } else {
          const sep = line.indexOf(': ');
          if (sep > 0) args[line.slice(0, sep)] = line.slice(sep + 2);
        }
      }
    };
    const onEnd = () => fail(new Error('stdin closed during the handshake'));
    const fail = (e) => { process.stdin.off('data', onData); reject(e); };
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
  });
}

function reportError(error, startupFile) {
  const err = error instanceof Error ? error : new Error(String(error));
  // An ES module that does not parse: add the file, line, source and caret node itself would print.
  let location;
  if (startupFile && err instanceof SyntaxError) {
    try { location = require('./lib/node/syntax-error-location.cjs').syntaxErrorLocation(err, startupFile); } catch { /* report without it */ }
  }
  const summary = (err.message || String(err)).split('\n')[0];
  control([
    'Error',
    `error_class: ${err.code ? `${err.name} [${err.code}]` : err.name}`,
    `summary: ${summary}`,
    'html: false',
    `node_version: ${process.version}`,
    '',
  ]);
  fs.writeSync(1, `${location ? `${location}\n\n` : ''}${err.stack || err.message}\n`);
}

/** Makes the first listen() of any net.Server (http, https, express...) listen on our socket. */
function redirectFirstListen(socketPath, onListening) {
  const originalListen = net.Server.prototype.listen;
  let taken = false;
  net.Server.prototype.listen = function listen(...args) {
    if (taken) return originalListen.apply(this, args);
    taken = true;
    net.Server.prototype.listen = originalListen;
    const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
    if (callback) this.once('listening', callback);
    this.once('listening', () => onListening(this));
    const oldUmask = process.umask(0o177); // the socket is created 0600: only we may connect
    try {
      return originalListen.call(this, { path: socketPath });
    } finally {
      process.umask(oldUmask);
    }
  };
}

/**
 * connection_handoff: the core sends client connections over the IPC channel
 * (fd 3) as raw handles; they become connections of the server the app
 * listened on, as node:cluster's workers do. Each is acknowledged at once;
 * closed ones are reported back in batches, so the core can give the next
 * one to the least loaded process.
 */
function acceptHandedConnections(servers) {
  if (typeof process.send !== 'function') return false;
  let closed = 0;
  const report = () => {
    const count = closed;
    closed = 0;
    if (process.connected) process.send({ passenger: 'closed', count }, undefined, {}, () => {});
  };
  const onClose = () => { if (closed++ === 0) setImmediate(report); };
  process.on('message', (message, handle) => {
    if (!message || message.passenger !== 'connection' || !handle) return;
    // Acknowledged before a byte is read: until then the core keeps its copy, and offers it
    // to another process if this one dies first.
    process.send({ passenger: 'taken', count: 1 }, undefined, {}, () => {});
    const server = servers[0];
    if (!server || !server._handle || typeof server._handle.onconnection !== 'function') {
      handle.close();
      onClose();
      return;
    }
    // The server's own accept path: its connection count, maxConnections, close() and http's timeouts all apply.
    let accepted = false;
    const onConnection = (socket) => { accepted = true; socket.once('close', onClose); };
    server.prependOnceListener('connection', onConnection);
    try {
      server._handle.onconnection(0, handle);
    } finally {
      if (!accepted) { server.off('connection', onConnection); onClose(); }
    }
  });
  return true;
}

function watchStdinForShutdown(servers, handsOff) {
  const stop = () => {
    if (handsOff) {
      // Handed-off connections are ours: the requests in flight on them finish, idle ones close, then we exit.
      let idleSweep;
      let open = servers.length;
      const done = () => { if (--open <= 0) { clearInterval(idleSweep); process.exit(0); } };
      if (open === 0) process.exit(0);
      for (const s of servers) {
        try { s.close(done); } catch { done(); }
      }
      const closeIdle = () => { for (const s of servers) s.closeIdleConnections?.(); };
      closeIdle();
      idleSweep = setInterval(closeIdle, 50);
      return;
    }
    for (const s of servers) {
      try { s.close(); } catch { /* already closed */ }
    }
    process.exit(0);
  };
  process.stdin.on('data', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}

async function loadApp(startupFile) {
  // import() loads CommonJS and ESM alike; the app's own require()s keep their usual rules.
  await import(pathToFileURL(startupFile).href);
}

async function main() {
  control(['I have control 1.0']);
  const args = await readArguments();
  const appRoot = args.app_root;
  process.chdir(appRoot);
  process.title = `Passenger NodeApp: ${appRoot}`;
  const socketPath = path.join(args.socket_dir, `node.${process.pid}.${crypto.randomBytes(6).toString('hex')}.sock`);
  const servers = [];
  redirectFirstListen(socketPath, (server) => {
    servers.push(server);
    control(['Ready', `socket: main;unix:${socketPath};http_session;0`, '']);
  });
  watchStdinForShutdown(servers, acceptHandedConnections(servers));
  try {
    await loadApp(args.startup_file);
  } catch (e) {
    reportError(e, args.startup_file);
    process.exit(1);
  }
}

main().catch((e) => {
  reportError(e);
  process.exit(1);
});
