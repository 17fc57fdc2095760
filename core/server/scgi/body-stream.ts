// The request body of an SCGI connection: the bytes after the head, exactly
// CONTENT_LENGTH of them, as a Readable with backpressure on the socket.
// A connection that closes early fails the body (the app sees an aborted upload).
import { Readable } from 'node:stream';
import type { Socket } from 'node:net';

export function scgiBodyStream(socket: Socket, first: Buffer, length: number): Readable {
  let remaining = length;
  const body = new Readable({ read() { socket.resume(); } });
  // Whoever reads the body may not listen for errors; an aborted upload must not crash the core.
  body.on('error', () => {});
  const take = (chunk: Buffer): void => {
    if (remaining <= 0) return;
    const part = chunk.length > remaining ? chunk.subarray(0, remaining) : chunk;
    remaining -= part.length;
    const more = body.push(part);
    if (remaining === 0) { body.push(null); detach(); return; }
    if (!more) socket.pause();
  };
  const onEnd = () => { if (remaining > 0) body.destroy(new Error(`the client went away with ${remaining} body bytes unsent`)); };
  const detach = () => { socket.off('data', take); socket.off('end', onEnd); socket.off('close', onEnd); };
  socket.on('data', take);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  if (first.length) take(first);
  return body;
}
