// A realistic ErrorReport for renderer and hint specs, with overrides.
import type { ErrorReport } from '../../core/errors/report.ts';

export function sampleReport(overrides: Partial<ErrorReport> = {}): ErrorReport {
  return {
    id: 'abc123def0',
    code: 'PSG_ERR_SPAWN_FAILED',
    category: 'app',
    summary: 'something failed while loading',
    errorClass: 'RuntimeError',
    detail: 'RuntimeError: something failed while loading\n  at /srv/app/app.js:3:9\n  at Module._compile (node:internal/modules/cjs/loader:1554:14)',
    output: ['booting', 'RuntimeError: something failed while loading', '  at /srv/app/app.js:3:9', '  at Module._compile (node:internal/modules/cjs/loader:1554:14)'],
    appRoot: '/srv/app',
    appName: 'app',
    appType: 'node',
    appTypeName: 'Node.js',
    command: ['/usr/bin/node', '/opt/passenger/helper-scripts/node-loader.cjs'],
    cwd: '/srv/app',
    user: { name: 'deploy', uid: 1001, gid: 1001 },
    environment: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/home/deploy', NODE_ENV: 'development', LANG: 'C.UTF-8' },
    ulimits: { 'open files': '1024 (hard 1048576)', processes: 'unlimited' },
    system: { loadAverage: [0.12, 0.2, 0.31], freeMemoryMiB: 2048, totalMemoryMiB: 8192, uptimeS: 93784 },
    journey: [
      { name: 'spawn', state: 'done', durationMs: 12 },
      { name: 'handshake', state: 'done', durationMs: 40 },
      { name: 'load_app', state: 'failed', durationMs: 230 },
      { name: 'ready', state: 'not_reached' },
    ],
    properties: { error_class: 'RuntimeError', summary: 'something failed while loading', html: 'false', node_version: 'v20.20.2' },
    hints: [],
    sections: [],
    exit: { code: 1, signal: null },
    createdAt: '2026-01-02T03:04:05.000Z',
    ...overrides,
  };
}
