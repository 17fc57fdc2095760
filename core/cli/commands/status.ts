// `passenger status [APP_DIR] [--json] [--instance NAME]`: the pool of a
// running instance (the one serving APP_DIR or the working directory, when
// several run), as a table or as the admin API's JSON.
import { adminRequest } from '../../admin/client.ts';
import { PassengerError } from '../../errors/passenger-error.ts';
import type { PoolStats, ProcessStats } from '../../pool/stats.ts';
import { checkFlags, findInstance, passwordOf } from './instance-flags.ts';

export interface StatusReply {
  instance: { name: string; version: string; watchdogPid: number; corePid: number; address: string; port: number; scgiSocket: string; maxPoolSize?: number; poolSizing?: string };
  pool: PoolStats;
}

function mib(bytes: number): string {
  return bytes ? `${Math.round(bytes / 2 ** 20)} MiB` : '-';
}

function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => '    ' + r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function processRow(p: ProcessStats, now: number): string[] {
  const handed = p.handedConnections > 0 ? ` +${p.handedConnections} conn` : '';
  return [String(p.pid), p.state, `${p.sessions}/${p.concurrency || '∞'}${handed}`, String(p.processed), `${p.cpu}%`, mib(p.rssBytes), ago(p.spawnedAt, now), ago(p.lastUsed, now)];
}

export function renderStatus(s: StatusReply, now = Date.now()): string {
  const i = s.instance;
  const out = [
    `Instance ${i.name} (passenger ${i.version}), watchdog pid ${i.watchdogPid}, core pid ${i.corePid}`,
    `  HTTP: http://${i.address}:${i.port}/`,
    `  SCGI: ${i.scgiSocket}`,
    `  Processes: ${s.pool.processCount} of max_pool_size ${s.pool.maxPoolSize}`,
  ];
  if (i.poolSizing) out.push(`  max_pool_size: ${i.poolSizing}`);
  if (s.pool.groups.length === 0) out.push('', 'No apps in the pool yet.');
  for (const g of s.pool.groups) {
    out.push('', `${g.name}: ${g.appRoot} (${g.appType}, ${g.environment})`);
    out.push(`  queue ${g.queueLength}${g.queueLength ? ` (oldest ${g.oldestQueuedMs} ms)` : ''}, spawning ${g.spawning}, restarting ${g.restarting ? 'yes' : 'no'}, generation ${g.generation}`);
    if (g.lastError) out.push(`  last error ${g.lastError.id} at ${g.lastError.at}: ${g.lastError.summary}`);
    if (g.processes.length === 0) { out.push('  no processes'); continue; }
    out.push(table([['PID', 'STATE', 'SESSIONS', 'PROCESSED', 'CPU', 'MEMORY', 'UPTIME', 'IDLE'], ...g.processes.map((p) => processRow(p, now))]));
  }
  return out.join('\n') + '\n';
}

export async function fetchStatus(flags: Record<string, string | boolean>, appDir?: string): Promise<StatusReply> {
  const found = findInstance(flags, appDir);
  const reply = await adminRequest<StatusReply>(found.dir.adminSocket, passwordOf(found, 'readOnly'), 'GET', '/status');
  if (reply.status !== 200) throw new PassengerError('PSG_ERR_ADMIN_UNREACHABLE', `instance ${found.dir.name} answered ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

export async function statusCommand(appDir: string | undefined, flags: Record<string, string | boolean>, json: boolean, watch = false): Promise<number> {
  checkFlags('status', flags, ['instance', 'instance_registry_dir']);
  if (watch && json) throw new PassengerError('PSG_ERR_USAGE', 'passenger status takes --json or --watch, not both');
  if (watch) {
    findInstance(flags, appDir); // an ambiguous or missing instance is an error at once, not a frame
    return (await import('./status-watch.ts')).watchStatus(flags, appDir);
  }
  const status = await fetchStatus(flags, appDir);
  process.stdout.write(json ? JSON.stringify(status, null, 2) + '\n' : renderStatus(status));
  return 0;
}
