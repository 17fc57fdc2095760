// `passenger run [DIR]`: validate everything here first (so a typo in the
// config fails at once, with the file and key), then hand over to the watchdog.
import { join } from 'node:path';
import type { Plugin } from '../../plugin.ts';
import { bootForApp } from '../../instance/boot.ts';
import { runWatchdog } from '../../watchdog/watchdog.ts';
import { createLogger, type LogFormat, type LogLevel } from '../../log/logger.ts';
import { configuredLogger } from '../../log/configured-logger.ts';
import { isRoot } from '../../spawn/user-switch.ts';
import { parseMetricsAddress } from '../../metrics/listener.ts';
import { checkSocketDirectory, checkSocketFree, loadOrCreateSecret } from '../../instance/stable-paths.ts';
import { takeActivatedSocket } from '../../watchdog/socket-activation.ts';
import type { EarlySignals } from '../../watchdog/early-signals.ts';
import { takeUpgradeListeners } from '../../watchdog/upgrade.ts';
import { drainDelaySeconds } from '../../instance/drain.ts';
import { packageRoot } from '../../paths.ts';

// From the package root: in the build this code sits in a bundle chunk, not beside core-main.
const coreEntry = import.meta.url.endsWith('.ts') ? join(packageRoot, 'core/cli/core-main.ts') : join(packageRoot, 'dist/core/cli/core-main.js');

export async function runCommand(builtins: Plugin[], appDir: string, flags: Record<string, string | boolean>, early?: EarlySignals): Promise<number> {
  // First, so neither the core nor the apps ever see LISTEN_* (they were for this process only).
  const activated = takeActivatedSocket(process.env);
  const upgrade = takeUpgradeListeners(process.env);
  const { app } = await bootForApp({ builtins, appDir, flags, env: process.env });
  const o = app.options as Record<string, unknown>;
  const logFile = o.log_file as string | undefined;
  const log = configuredLogger({ level: o.log_level as LogLevel, format: o.log_format as LogFormat, file: logFile, appRoot: app.appRoot });
  // With log_file, the terminal still learns where the server is (and where its log went).
  const banner = logFile === undefined || logFile === '-' ? log : createLogger('info');
  const metricsAddress = o.metrics_address as string | undefined;
  if (metricsAddress !== undefined) parseMetricsAddress(metricsAddress);
  for (const d of app.deprecations ?? []) log.warn(d);
  if (upgrade) log.info(`upgrade: taking over the listening sockets of the instance of watchdog pid ${upgrade.fromPid}`);
  if (activated) {
    log.info(`HTTP on the socket passed by the service manager (LISTEN_FDS, fd ${activated.fd}); port and address are not used${activated.count > 1 ? `; ${activated.count - 1} further passed sockets are ignored` : ''}`);
  }
  if (isRoot() && o.user === undefined) {
    log.warn('running as root without a "user" option: the app will run as root too. Set user (e.g. --user www-data) to drop privileges.');
  }
  const scgiSocket = o.scgi_socket as string | undefined;
  if (scgiSocket !== undefined) {
    checkSocketDirectory(scgiSocket);
    // An upgrade takes the path over from the running instance.
    if (!upgrade) await checkSocketFree(scgiSocket);
  }
  const secretFile = o.scgi_secret_file as string | undefined;
  const scgiSecret = secretFile === undefined ? undefined : loadOrCreateSecret(secretFile);
  const drainDelay = drainDelaySeconds({ drain_delay: o.drain_delay as number | undefined, environment: app.options.environment });
  return runWatchdog({
    coreEntry,
    init: { appDir: app.appRoot, flags },
    registryDir: o.instance_registry_dir as string | undefined,
    stopTimeoutMs: (drainDelay + (o.shutdown_timeout as number)) * 1000 + 10_000,
    drainDelaySeconds: drainDelay,
    listen: {
      address: o.address as string, port: o.port as number, scgiAddress: o.scgi_address as string | undefined, scgiSocket, httpFd: activated?.fd,
      sslPort: o.ssl === true ? o.ssl_port as number | undefined : undefined,
    },
    scgiSecret,
    log,
    early,
    upgrade,
    onReady(m, instance) {
      const https = m.sslPort === undefined ? '' : ` and https://${m.address}:${m.sslPort}/`;
      const serving = `serving ${m.appRoot} (${m.appType}, ${app.options.environment}) on ${m.scheme}://${m.address}:${m.port}/${https} — instance ${instance.name}, Ctrl-C to stop`;
      log.info(serving);
      if (banner !== log) banner.info(`${serving}; the server's log goes to ${logFile}`);
      if (m.metricsPort !== undefined) {
        const host = parseMetricsAddress(metricsAddress!).host;
        log.info(`metrics on http://${host.includes(':') ? `[${host}]` : host}:${m.metricsPort}/metrics (also /healthz, /readyz, and a status page at /)`);
      }
      log.info(`SCGI for nginx on ${scgiSocket ?? instance.requestSocket} (passenger nginx-config prints the configuration)`);
    },
  });
}
