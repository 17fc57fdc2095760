// Headless Chromium for the error page specs: one fresh profile per run,
// loopback only, every run bounded in time, the process group killed by PID
// if it hangs.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-extensions', '--hide-scrollbars', '--mute-audio'];

/** Runs chromium on `url` with `extra` flags; resolves with its stdout. */
export function runChromium(url: string, extra: string[], timeoutMs = 30000): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'psg-chromium-'));
  return new Promise<string>((resolve, reject) => {
    const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...extra, url], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } };
    const timer = setTimeout(() => { killGroup(); reject(new Error(`chromium timed out after ${timeoutMs} ms:\n${stderr}`)); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      // Helpers (zygote, utility processes) must not outlive the browser.
      killGroup();
      rmSync(profile, { recursive: true, force: true });
      if (code === 0) resolve(stdout);
      else reject(new Error(`chromium exited with ${code}:\n${stderr}`));
    });
  });
}

/** The DOM after the page ran (or would have run) its scripts. */
export function dumpDom(url: string): Promise<string> {
  return runChromium(url, ['--dump-dom']);
}

export async function screenshot(url: string, file: string, size = '1280,2000'): Promise<void> {
  await runChromium(url, [`--screenshot=${file}`, `--window-size=${size}`]);
}

/** The text a reader sees: without style and script contents, tags removed, entities decoded. */
export function visibleText(dom: string): string {
  const body = dom.replace(/<head>[\s\S]*?<\/head>/i, '').replace(/<(style|script)\b[\s\S]*?<\/\1>/gi, '');
  return body.replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')
    .replace(/[ \t\r\n]+/g, ' ');
}
