// Upgrades (WebSocket) over SCGI: the forwarding path writes an HTTP/1.1
// status line, which an SCGI front end does not understand. This Duplex
// wraps the connection and turns that first line into `Status: 101 ...`;
// after it, bytes flow through unchanged in both directions.
import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

const STATUS_LINE = /^HTTP\/\d\.\d (\d{3})( [^\r\n]*)?\r\n/;

export function scgiUpgradeStream(socket: Socket): Duplex {
  let pending: Buffer | undefined = Buffer.alloc(0);
  const stream = new Duplex({
    read() { socket.resume(); },
    write(chunk: Buffer, _enc, cb) {
      if (pending === undefined) { socket.write(chunk, cb); return; }
      pending = Buffer.concat([pending, chunk]);
      const eol = pending.indexOf('\r\n');
      if (eol < 0 && pending.length < 8192) { cb(); return; }
      const all = pending;
      pending = undefined;
      const m = eol < 0 ? null : STATUS_LINE.exec(all.toString('latin1', 0, eol + 2));
      if (!m) { socket.write(all, cb); return; }
      socket.write(Buffer.concat([Buffer.from(`Status: ${m[1]}${m[2] ?? ''}\r\n`, 'latin1'), all.subarray(eol + 2)]), cb);
    },
    final(cb) { socket.end(cb); },
    destroy(err, cb) { socket.destroy(); cb(err); },
  });
  socket.on('data', (d: Buffer) => { if (!stream.push(d)) socket.pause(); });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  socket.on('error', (e) => stream.destroy(e));
  return stream;
}
