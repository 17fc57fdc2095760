// max_connections_per_client: how many connections one peer address may hold
// open at once on the built-in HTTP engine (slowloris-style clients hold many).
// Connections beyond it get 503 and are closed before their request is read.
// Some peers are exempt: a load balancer or proxy in front is one address
// for all of its clients (trusted_proxies; until that option exists, loopback).
import type net from 'node:net';

/** Loopback peers: the default exemption (a front server on the same machine). */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

const REFUSAL_BODY = '503 Service Unavailable: too many connections from this address (max_connections_per_client)\n';
const REFUSAL = `HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${REFUSAL_BODY.length}\r\n\r\n${REFUSAL_BODY}`;

/** A refused connection is closed this long after its 503 even if the client keeps it open. */
const REFUSED_LINGER_MS = 2000;

export class ConnectionLimiter {
  readonly #max: number;
  readonly #isExempt: (address: string) => boolean;
  readonly #open = new Map<string, number>();
  readonly #refused = new WeakSet<net.Socket>();
  /** Called once per refused connection (for the log). */
  onRefuse: ((address: string, max: number) => void) | undefined;

  constructor(max: number, isExempt: (address: string) => boolean = isLoopback) {
    this.#max = max;
    this.#isExempt = isExempt;
  }

  /** Whether this connection was refused: its requests are not served. */
  refused(socket: net.Socket): boolean { return this.#refused.has(socket); }

  /** Connections open per address now (for specs and status). */
  openConnections(address: string): number { return this.#open.get(address) ?? 0; }

  /** Counts a new connection; false: refused (answered 503 and closing), it must not be served. */
  admit(socket: net.Socket): boolean {
    const address = socket.remoteAddress;
    if (address === undefined || this.#isExempt(address)) return true;
    const open = this.#open.get(address) ?? 0;
    if (open >= this.#max) {
      this.#refused.add(socket);
      this.onRefuse?.(address, this.#max);
      socket.end(REFUSAL);
      // Whatever the client sent is read and dropped, so that closing does not reset the connection before it read the 503.
      socket.resume();
      setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
      return false;
    }
    this.#open.set(address, open + 1);
    socket.once('close', () => {
      const n = (this.#open.get(address) ?? 1) - 1;
      if (n <= 0) this.#open.delete(address);
      else this.#open.set(address, n);
    });
    return true;
  }
}
