// `passenger nginx-config --check`: asks nginx itself (`nginx -t`) whether it
// accepts the server blocks, inside a minimal nginx.conf in a temporary
// directory (so the system's configuration is neither read nor changed),
// with the scgi_params of the system's nginx.
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runChecker, type CheckResult } from './check-with.ts';

export const PRINTED = '<the printed configuration>';

export async function checkWithNginx(serverBlocks: string, nginx = 'nginx'): Promise<CheckResult> {
  const version = await runChecker(nginx, ['-V']);
  if (!version.ok) return version;
  const confDir = dirname(/--conf-path=(\S+)/.exec(version.output)?.[1] ?? '/etc/nginx/nginx.conf');
  const dir = mkdtempSync(join(tmpdir(), 'passenger-nginx-check-'));
  try {
    const blocks = join(dir, 'passenger.conf');
    writeFileSync(blocks, serverBlocks);
    if (existsSync(join(confDir, 'scgi_params'))) copyFileSync(join(confDir, 'scgi_params'), join(dir, 'scgi_params'));
    writeFileSync(join(dir, 'nginx.conf'), `pid ${dir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n    access_log off;\n    include ${blocks};\n}\n`);
    const r = await runChecker(nginx, ['-t', '-q', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf')]);
    // nginx names our temporary file; its line numbers are those of the printed configuration.
    return { ...r, output: r.output.replaceAll(blocks, PRINTED).replaceAll(dir, '<temporary directory>'), ...(r.failure ? { failure: r.failure.replaceAll(dir, '<temporary directory>') } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
