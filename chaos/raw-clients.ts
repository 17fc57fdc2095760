// Hostile clients over raw sockets: ones that trickle a head or a body, and
// ones that read nothing. Each resolves with the status it got (0: none).
import net from 'node:net';

function statusOf(raw: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

/** Sends `first`, then one byte of `trickle` every `everyMs` until the server answers or closes, or `maxMs` passes. */
export function trickle(port: number, first: string, trickle: string, everyMs: number, maxMs: number): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    let i = 0;
    const tick = setInterval(() => { if (!s.destroyed) s.write(trickle[i++ % trickle.length]!); }, everyMs);
    const finish = () => { clearInterval(tick); clearTimeout(giveUp); s.destroy(); resolve(statusOf(got)); };
    const giveUp = setTimeout(finish, maxMs);
    s.on('connect', () => s.write(first));
    s.on('data', (d: Buffer) => { got += d.toString('latin1'); if (got.includes('\r\n\r\n')) finish(); });
    s.on('close', finish);
    s.on('error', () => {});
  });
}

/** Asks for `path` and reads nothing for `holdMs` (the socket's buffers fill up), then leaves. Resolves with the status of the head, if it came. */
export function slowReader(port: number, path: string, holdMs: number): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('connect', () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: chaos\r\n\r\n`);
      // Read just the head, then stop reading.
      s.once('data', (d: Buffer) => { got = d.toString('latin1', 0, 200); s.pause(); });
    });
    s.on('error', () => {});
    setTimeout(() => { s.destroy(); resolve(statusOf(got)); }, holdMs);
  });
}

/** Opens `n` connections that send nothing; resolves with them once all are connected (failed ones are counted). */
export async function idleConnections(port: number, n: number): Promise<{ sockets: net.Socket[]; refused: number; closedByServer(): number }> {
  let closed = 0;
  const attempts = await Promise.all(Array.from({ length: n }, () => new Promise<net.Socket | undefined>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    // Read (and drop) what the server sends, or its close would never be seen.
    s.once('connect', () => { s.on('close', () => { closed++; }); s.resume(); resolve(s); });
    s.once('error', () => resolve(undefined));
  })));
  const sockets = attempts.filter((s): s is net.Socket => s !== undefined);
  return { sockets, refused: n - sockets.length, closedByServer: () => closed };
}

export function tally(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a - b).map(([s, n]) => `${n}×${s || 'none'}`).join(' ');
}
