// The one request shape both front ends (built-in HTTP engine, SCGI) hand to
// the forwarding path, and the response sink they expose. Protocols only see these.
import type { Readable } from 'node:stream';

/**
 * A body whose chunks may be reused once written (a buffered body read back
 * from its file): a protocol gives each chunk back when its write reached
 * the kernel, or failed (protocols/body-pump.ts does).
 */
export interface RecyclableChunks {
  recycle(chunk: Buffer): void;
}

export interface FrontRequest {
  method: string;
  /** The raw request target, `/path?query`. */
  url: string;
  /** `1.1` or `1.0`. */
  httpVersion: string;
  /** Header names and values alternating, as received. */
  rawHeaders: string[];
  remoteAddress: string;
  remotePort: number;
  /** The Host header without port, or the listening address. */
  serverName: string;
  serverPort: number;
  https: boolean;
  /**
   * The peer (remoteAddress) is in trusted_proxies: the X-Forwarded-* headers
   * it sent are kept. From any other peer they are replaced (server/trusted-proxies.ts).
   */
  trustedProxy: boolean;
  /**
   * The decoded body, or null when the request has none. A body read back
   * from a buffer file, and one streamed from a client (server/pooled-body.ts:
   * the lean HTTP engine's larger bodies, SCGI bodies), offer
   * `recycle(chunk)`: a protocol calls it once a chunk it wrote left its
   * hands (its socket write's callback), and later reads go into that
   * memory instead of fresh buffers.
   */
  body: (Readable & Partial<RecyclableChunks>) | null;
  /** The body length when known in advance (undefined for chunked bodies). */
  contentLength: number | undefined;
  /** The W3C trace id (32 hex digits) of this request, when trace_context is on (for the access log). */
  traceId?: string;
  /** The X-Request-Id the app gets and the response carries, when request_id is on (server/request-id.ts). */
  requestId?: string;
}

export interface FrontResponse {
  readonly headersSent: boolean;
  /** The client went away before `end()` (its connection is closed). */
  readonly clientGone: boolean;
  /** `headers` alternates names and values. */
  writeHead(status: number, reason: string, headers: string[]): void;
  /** Returns false when the client is slow: wait for `onDrain`. */
  write(chunk: Buffer): boolean;
  /**
   * Whether written bytes are still queued here rather than handed to the
   * kernel: a caller that wrote a view of a buffer it reuses must then leave
   * that buffer alone.
   */
  holdsData(): boolean;
  end(): void;
  /** Cuts the client connection: the response cannot be completed. */
  abort(): void;
  onDrain(cb: () => void): void;
  /** Called once if the client goes away before `end()`. */
  onClose(cb: () => void): void;
  /**
   * After `end()`: calls `cb` once every byte written was handed to the
   * kernel, so the caller may reuse the memory of the chunks it wrote (never
   * if the response broke off). Optional: without it, that memory is left to the GC.
   */
  onFlushed?(cb: () => void): void;
}
