// Client connections read into one buffer that all of them share, and each
// read is copied out at its own size. By default node gives every read of a
// socket a fresh 64 KiB allocation outside the JS heap, shrinks it to the
// bytes read, and frees it only at a later GC. For a small request that is
// most of what reading it costs, and under uploads it fragments the malloc
// heap. A copy of a request head is instead a slice of node's 8 KiB Buffer
// pool.
//
// net's `onread` option does this for sockets we connect (upstream-pool.ts).
// node has no such option for accepted sockets, so the state that option
// sets is set on them here. It is found by feature detection, and when it
// is absent nothing changes. The copy goes to the socket's stream as node's
// own buffer would, so 'data', pause(), resume() and a hand-over to
// node:http (whose parser reads the handle itself) work as before; or,
// for the lean engine, straight to the connection, which copies what it
// keeps itself (a streamed body goes into reused buffers: pooled-body.ts).
import net, { type Socket } from 'node:net';

const SHARED = Buffer.allocUnsafe(64 * 1024);

interface StreamState { buffer: symbol; callback: symbol }

/** net.Socket's own keys for its `onread` state, read off a socket that was given the option. */
function findStreamState(): StreamState | undefined {
  // The constructor takes the option (node documents it with connect(), whose options go to the constructor).
  const options = { onread: { buffer: SHARED, callback: () => true } };
  const probe = new net.Socket(options as net.SocketConstructorOpts);
  const keys = new Map(Object.getOwnPropertySymbols(probe).map((s) => [s.description, s]));
  const buffer = keys.get('kBuffer');
  const callback = keys.get('kBufferCb');
  const generator = keys.get('kBufferGen');
  if (!buffer || !callback || !generator) return undefined;
  const fields = probe as unknown as Record<symbol, unknown>;
  // Anything else: a node whose internals moved on. (The generator key is left null, as on every
  // socket not given a buffer function: net then keeps reading into the one buffer.)
  if (fields[buffer] !== SHARED || typeof fields[callback] !== 'function' || fields[generator] !== null) return undefined;
  return { buffer, callback };
}

const STATE = findStreamState();

interface UserBufferHandle { useUserBuffer?: (buffer: Uint8Array) => void }

/** Called by net with the socket as `this`, for every read: the copy goes into the socket's stream. */
function pushCopy(this: Socket, nread: number, buffer: Buffer): boolean {
  return this.push(copyOut(buffer, nread));
}

/** The first `nread` bytes of `buffer` in memory of their own (a small copy is a slice of node's Buffer pool). */
export function copyOut(buffer: Buffer, nread: number): Buffer {
  const copy = Buffer.allocUnsafe(nread);
  buffer.copy(copy, 0, 0, nread);
  return copy;
}

/**
 * Makes an accepted socket read into the shared buffer; false: it reads
 * node's way (not possible on this node, or already set). With `consume`,
 * every read goes straight to it instead of through the stream, with no
 * 'data' event and no nextTick per read (a third of the saving), as a view
 * of the shared buffer that is only valid during the call: the consumer
 * copies what it keeps. pause() and resume() still stop and restart the
 * reads, and the end still comes as 'end'. readIntoStream() gives the
 * reads back to the stream.
 */
export function readIntoSharedBuffer(socket: Socket, consume?: (view: Buffer) => void): boolean {
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (STATE === undefined || !handle || typeof handle.useUserBuffer !== 'function' || socket.destroyed) return false;
  const fields = socket as unknown as Record<symbol, unknown>;
  if (fields[STATE.buffer] !== null) return false;
  fields[STATE.buffer] = SHARED;
  fields[STATE.callback] = consume ? (nread: number, buffer: Buffer) => { consume(buffer.subarray(0, nread)); } : pushCopy;
  handle.useUserBuffer(SHARED);
  return true;
}

/**
 * A socket that reads into the shared buffer (readIntoSharedBuffer) gives
 * its reads to `consume` from now on, as views only valid during the call;
 * false: it reads node's way, and its reads stay 'data'. Reads already in
 * its stream still come as 'data'. readIntoStream() undoes it.
 */
export function readIntoConsumer(socket: Socket, consume: (view: Buffer) => void): boolean {
  const fields = socket as unknown as Record<symbol, unknown>;
  if (STATE === undefined || fields[STATE.buffer] !== SHARED) return false;
  fields[STATE.callback] = (nread: number, buffer: Buffer) => { consume(buffer.subarray(0, nread)); };
  return true;
}

/** From now on the socket's reads go into its stream ('data'), as node's own would (a socket handed to node:http). */
export function readIntoStream(socket: Socket): void {
  const fields = socket as unknown as Record<symbol, unknown>;
  if (STATE !== undefined && fields[STATE.buffer] === SHARED) fields[STATE.callback] = pushCopy;
}
