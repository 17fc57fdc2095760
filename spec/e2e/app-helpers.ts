// HTTP helpers shared by the Rack and WSGI end-to-end specs.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp } from '../support/passenger.ts';

export interface Reply { status: number; headers: http.IncomingHttpHeaders; body: Buffer; text: string; json: <T = Record<string, unknown>>() => T }

/** One request on its own connection; `body` may be an async generator for a chunked upload. */
export function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string | (() => AsyncIterable<Buffer>) } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (!res.complete) { reject(new Error(`response to ${url} was cut short`)); return; }
        const body = Buffer.concat(chunks);
        const text = body.toString();
        resolve({ status: res.statusCode!, headers: res.headers, body, text, json: <T>() => JSON.parse(text) as T });
      });
      res.on('error', reject);
    });
    req.setTimeout(60000, () => req.destroy(new Error(`no answer from ${url} within 60 s`)));
    req.on('error', reject);
    const body = opts.body;
    if (typeof body === 'function') {
      void (async () => {
        for await (const c of body()) if (!req.write(c)) await new Promise((r) => req.once('drain', r));
        req.end();
      })().catch(reject);
    } else req.end(body);
  });
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The fixtures' download pattern: byte p = (7p + 3) mod 251 (below), and its size and SHA-256 for `mib` MiB. */
export function downloadPattern(mib: number): { size: number; sha256: string } {
  // Byte p of the download is (7p + 3) mod 251: a prime period, so bytes moved
  // or overwritten by a later read (which starts at some other offset) change
  // the hash; a power-of-two period would hide them.
  const size = mib << 20;
  const phase = Buffer.alloc(65536 + 251);
  for (let j = 0; j < phase.length; j++) phase[j] = (j * 7 + 3) % 251;
  const h = createHash('sha256');
  for (let p = 0; p < size; p += 65536) h.update(phase.subarray(p % 251, p % 251 + 65536));
  return { size, sha256: h.digest('hex') };
}

/** A multipart/form-data body with text fields and one file. */
export function multipart(fields: Record<string, string>, file: { field: string; filename: string; data: Buffer }): { body: Buffer; contentType: string } {
  const boundary = `----psg${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  parts.push(file.data, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Yields `total` random bytes in uneven pieces and records their checksum. */
export function chunkedUpload(total: number): { pieces: () => AsyncIterable<Buffer>; sha256: () => string } {
  const h = createHash('sha256');
  let digest = '';
  return {
    async *pieces() {
      let left = total;
      for (let i = 0; left > 0; i++) {
        const piece = randomBytes(Math.min(left, [1000, 65536, 7, 300000][i % 4]!));
        h.update(piece);
        left -= piece.length;
        yield piece;
      }
      digest = h.digest('hex');
    },
    sha256: () => digest,
  };
}

/**
 * Checks that a response streams: the app writes a first line, then waits for
 * a gate file that we create only once that line has arrived.
 */
export async function expectStreaming(url: string, first: string, rest: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'psg-gate-'));
  const gate = join(dir, 'open');
  try {
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.get(`${url}${url.includes('?') ? '&' : '?'}gate=${encodeURIComponent(gate)}`, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text === '') {
            expect(c.startsWith(first), `first piece ${JSON.stringify(c)}`).to.equal(true);
            writeFileSync(gate, 'open');
          }
          text += c;
        });
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.setTimeout(60000, () => req.destroy(new Error('no streaming answer within 60 s')));
      req.on('error', reject);
    });
    expect(body).to.equal(first + rest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A throwaway copy of a fixture app (for apps that write files, or get a virtualenv). */
export function copyFixture(name: string, made: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), `psg-${name}-`));
  cpSync(fixtureApp(name), dir, { recursive: true });
  made.push(dir);
  return dir;
}

export const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
