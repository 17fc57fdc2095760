// `passenger run [DIR]`: validate everything here first (so a typo in the
// config fails at once, with the file and key), then hand over to the watchdog.
import { fileURLToPath } from 'node:url';
import { extname } from 'node:path';
import type { Plugin } from '../../plugin.ts';
import { bootForApp } from '../../instance/boot.ts';
import { runWatchdog } from '../../watchdog/watchdog.ts';
import { createLogger, type LogLevel } from '../../log/logger.ts';
import { isRoot } from '../../spawn/user-switch.ts';
import { parseMetricsAddress } from '../../metrics/listener.ts';

const ext = extname(fileURLToPath(import.meta.url));
const coreEntry = fileURLToPath(new URL(`../core-main${ext}`, import.meta.url));

export async function runCommand(builtins: Plugin[], appDir: string, flags: Record<string, string | boolean>): Promise<number> {
  const { app } = await bootForApp({ builtins, appDir, flags, env: process.env });
  const o = app.options as Record<string, unknown>;
  const log = createLogger(o.log_level as LogLevel);
  const metricsAddress = o.metrics_address as string | undefined;
  if (metricsAddress !== undefined) parseMetricsAddress(metricsAddress);
  if (isRoot() && o.user === undefined) {
    log.warn('running as root without a "user" option: the app will run as root too. Set user (e.g. --user www-data) to drop privileges.');
  }
  return runWatchdog({
    coreEntry,
    init: { appDir: app.appRoot, flags },
    registryDir: o.instance_registry_dir as string | undefined,
    stopTimeoutMs: (o.shutdown_timeout as number) * 1000 + 10_000,
    listen: {
      address: o.address as string, port: o.port as number, scgiAddress: o.scgi_address as string | undefined,
      sslPort: o.ssl === true ? o.ssl_port as number | undefined : undefined,
    },
    log,
    onReady(m, instance) {
      const https = m.sslPort === undefined ? '' : ` and https://${m.address}:${m.sslPort}/`;
      log.info(`serving ${m.appRoot} (${m.appType}, ${app.options.environment}) on ${m.scheme}://${m.address}:${m.port}/${https} — instance ${instance.name}, Ctrl-C to stop`);
      if (m.metricsPort !== undefined) {
        const host = parseMetricsAddress(metricsAddress!).host;
        log.info(`metrics on http://${host.includes(':') ? `[${host}]` : host}:${m.metricsPort}/metrics (also /healthz, /readyz, and a status page at /)`);
      }
      log.info(`SCGI for nginx on ${instance.requestSocket} (passenger nginx-config prints the configuration)`);
    },
  });
}
