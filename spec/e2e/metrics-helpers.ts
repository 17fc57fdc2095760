// Scraping the metrics listener in specs: the exposition parsed into
// "name{labels}" -> value, exactly as printed, so a spec names a series the
// way a PromQL reader would see it.
import { spawn } from 'node:child_process';
import getPort from 'get-port';

export type Scrape = Map<string, number>;

export async function metricsPort(): Promise<number> {
  return getPort({ host: '127.0.0.1' });
}

export function parseExposition(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

export async function scrape(base: string): Promise<Scrape> {
  const r = await fetch(`${base}/metrics`);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return parseExposition(await r.text());
}

/** A series' value, 0 when absent (counters that never moved). */
export function value(s: Scrape, series: string): number {
  return s.get(series) ?? 0;
}

/** Scrapes until `ok` holds, for at most `ms` (process exits and respawns take a moment). */
export async function scrapeUntil(base: string, ok: (s: Scrape) => boolean, ms = 15000): Promise<Scrape> {
  const until = Date.now() + ms;
  for (;;) {
    const s = await scrape(base);
    if (ok(s)) return s;
    if (Date.now() > until) throw new Error(`metrics never reached the expected state; last scrape:\n${[...s].filter(([k]) => k.startsWith('passenger_')).map(([k, v]) => `${k} ${v}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs `promtool check metrics` on the text; resolves with its exit code and output. */
export function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('promtool timed out')); }, 20000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, output }); });
    child.stdin.end(text);
  });
}
