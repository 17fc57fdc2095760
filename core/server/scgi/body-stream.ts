// The request body of an SCGI connection: the bytes after the head, exactly
// CONTENT_LENGTH of them, as a Readable with backpressure on the socket.
// While the body lasts, the socket's reads come straight here and are copied
// into reused buffers (pooled-body.ts), as the lean HTTP engine's are.
// A connection that closes early fails the body (the app sees an aborted upload).
import type { Readable } from 'node:stream';
import type { Socket } from 'node:net';
import { PooledBody } from '../pooled-body.ts';
import { readIntoConsumer, readIntoStream } from '../shared-read-buffer.ts';

export function scgiBodyStream(socket: Socket, first: Buffer, length: number): Readable {
  let remaining = length;
  const body = new PooledBody(() => { if (remaining > 0) socket.resume(); });
  // Whoever reads the body may not listen for errors; an aborted upload must not crash the core.
  body.on('error', () => {});
  /** `bytes` may be a view of the shared read buffer: the body copies what it keeps. */
  const take = (bytes: Buffer): void => {
    if (remaining <= 0) return;
    const part = bytes.length > remaining ? bytes.subarray(0, remaining) : bytes;
    remaining -= part.length;
    const more = body.pushCopy(part);
    if (remaining === 0) { body.push(null); detach(); return; }
    if (!more) socket.pause();
  };
  const onEnd = () => { if (remaining > 0) body.destroy(new Error(`the client went away with ${remaining} body bytes unsent`)); };
  const detach = () => {
    readIntoStream(socket);
    socket.off('data', take);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
  };
  // Reads the socket's stream already holds come as 'data'; later ones straight to take (where possible).
  readIntoConsumer(socket, take);
  socket.on('data', take);
  socket.on('end', onEnd);
  socket.on('close', onEnd);
  if (first.length) take(first);
  return body;
}
