// A client for the admin API of one instance (CLI commands and specs).
import http from 'node:http';
import { PassengerError } from '../errors/passenger-error.ts';

export interface AdminReply<T = unknown> {
  status: number;
  body: T;
}

export function adminRequest<T = unknown>(socketPath: string, password: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown): Promise<AdminReply<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (password !== undefined) headers.Authorization = `Bearer ${password}`;
    if (payload !== undefined) headers['Content-Type'] = 'application/json';
    const req = http.request({ socketPath, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
        resolve({ status: res.statusCode ?? 0, body: parsed as T });
      });
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      reject(new PassengerError('PSG_ERR_ADMIN_UNREACHABLE', `cannot reach the admin socket ${socketPath}: ${e.code ?? e.message}`, { socketPath }));
    });
    req.end(payload);
  });
}
