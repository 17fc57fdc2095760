// The corpus of malformed and hostile HTTP requests in
// spec/fixtures/hostile-requests/: one file of raw bytes per case, and
// index.json with the status the built-in engine must answer and why.
// The HTTP rules spec, the chaos suite and the fuzzers all read it here.
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './passenger.ts';

export const hostileRequestsDir = join(repoRoot, 'spec/fixtures/hostile-requests');

export interface HostileRequest {
  /** The file name without `.http`. */
  name: string;
  /** The raw bytes to send over a fresh connection. */
  bytes: Buffer;
  /** The status the server must answer. */
  status: number;
  /** One line: what is wrong with it (or, for accepted cases, which rule applies). */
  why: string;
  /** The request is accepted and reaches the app (exactly once); otherwise the app must never see it. */
  reachesApp: boolean;
}

interface IndexEntry { status: number; why: string; reachesApp?: boolean }

/** Every case, in index order. Throws if a file and the index disagree, so the corpus cannot rot silently. */
export function loadHostileRequests(): HostileRequest[] {
  const index = JSON.parse(readFileSync(join(hostileRequestsDir, 'index.json'), 'utf8')) as Record<string, IndexEntry>;
  const files = readdirSync(hostileRequestsDir).filter((f) => f.endsWith('.http'));
  const unlisted = files.filter((f) => !(f in index));
  const missing = Object.keys(index).filter((f) => !files.includes(f));
  if (unlisted.length > 0 || missing.length > 0) {
    throw new Error(`${hostileRequestsDir}/index.json and the files disagree: not in the index: ${unlisted.join(', ') || 'none'}; no file: ${missing.join(', ') || 'none'}`);
  }
  return Object.entries(index).map(([file, e]) => ({
    name: file.replace(/\.http$/, ''),
    bytes: readFileSync(join(hostileRequestsDir, file)),
    status: e.status,
    why: e.why,
    reachesApp: e.reachesApp === true,
  }));
}

/**
 * Sends raw bytes on a fresh loopback connection and collects everything
 * the server answers until it closes (or `timeoutMs` passes: then the
 * connection is half-closed, so a server waiting for more sees the end).
 */
export function sendRaw(port: number, bytes: Buffer | string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let out = '';
    const done = () => { clearTimeout(halfClose); clearTimeout(giveUp); resolve(out); };
    sock.on('data', (d: Buffer) => { out += d.toString('latin1'); });
    sock.on('close', done);
    sock.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') { clearTimeout(halfClose); clearTimeout(giveUp); reject(e); } });
    sock.write(bytes);
    const halfClose = setTimeout(() => sock.end(), timeoutMs);
    const giveUp = setTimeout(() => sock.destroy(), 2 * timeoutMs);
  });
}

/** The status code of the first response in raw output, or undefined if there is none. */
export function firstStatus(raw: string): number | undefined {
  const m = /^HTTP\/1\.[01] (\d{3}) /.exec(raw);
  return m ? Number(m[1]) : undefined;
}
