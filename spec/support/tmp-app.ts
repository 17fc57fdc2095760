// Throwaway app directories for specs, removed after each test.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const made: string[] = [];

/** Creates a directory with these files (path -> content) and returns its path. */
export function makeApp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'psg-app-'));
  made.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

export function removeApps(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
