// Reads one line from a socket without losing what follows it: the rest is
// pushed back (unshift) for the next reader, the handshake.
import type { Socket } from 'node:net';

export interface FirstLine {
  /** Without its newline; undefined when the socket closed or timed out first. */
  line?: string;
  timedOut: boolean;
}

const MAX_LINE = 4096;

export function readFirstLine(sock: Socket, timeoutMs: number): Promise<FirstLine> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const done = (r: FirstLine) => {
      clearTimeout(timer);
      sock.off('readable', onReadable); sock.off('end', onEnd); sock.off('close', onEnd); sock.off('error', onEnd);
      resolve(r);
    };
    const onEnd = () => done({ timedOut: false });
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = sock.read() as Buffer | null) !== null) {
        buf = Buffer.concat([buf, chunk]);
        const nl = buf.indexOf(10);
        if (nl >= 0) {
          const rest = buf.subarray(nl + 1);
          if (rest.length > 0) sock.unshift(rest);
          done({ line: buf.subarray(0, nl).toString('utf8').replace(/\r$/, ''), timedOut: false });
          return;
        }
        if (buf.length > MAX_LINE) { done({ line: buf.toString('utf8', 0, 200), timedOut: false }); return; }
      }
    };
    const timer = setTimeout(() => done({ timedOut: true }), timeoutMs);
    timer.unref();
    sock.on('readable', onReadable);
    sock.once('end', onEnd); sock.once('close', onEnd); sock.once('error', onEnd);
    onReadable();
  });
}
