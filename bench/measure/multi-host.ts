// The multi-host row (issue 18): three hosts behind nginx against one host
// behind nginx, and that host without nginx. The hosts are Linux network
// namespaces on this machine (spec/support/netns.ts, root only), so all of
// them share its cores: three hosts cannot be faster here. What the row
// shows is what the load balancer costs per request, as ratios. One sample
// per setup per repetition, the setups in a rotating order.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import getPort from 'get-port';
import { prepareApp } from '../apps/prepare.ts';
import { waitFor200 } from '../load/probe.ts';
import type { LoadResult } from '../load/wrk.ts';
import { median } from '../report/median.ts';
import type { BenchSettings } from '../settings.ts';
import type { Load } from './sample.ts';
import { passengerCommand, startPassenger, type RunningPassenger } from '../../spec/support/passenger.ts';
import { startNginx, type RunningNginx } from '../../spec/support/nginx.ts';
import { createHosts, inHost, removeHosts, type SimulatedHost } from '../../spec/support/netns.ts';

export const MULTI_HOST_SETUPS = ['direct', 'nginx-1', 'nginx-3'] as const;
export type MultiHostSetup = typeof MULTI_HOST_SETUPS[number];
const LABELS: Record<MultiHostSetup, string> = {
  'direct': '1 host, no nginx',
  'nginx-1': 'nginx -> 1 host',
  'nginx-3': 'nginx -> 3 hosts',
};
const CONNECTIONS = 32;
const HOST_PORT = 3000;

export interface MultiHostSample { repetition: number; setup: MultiHostSetup; c32: LoadResult }

export interface MultiHostResult {
  /** Per host: `passenger run` of the Node hello app, from source, with this many processes. */
  processesPerHost: number;
  samples: MultiHostSample[];
  median: Record<MultiHostSetup, { rpsC32: number; p99C32Ms: number } | null>;
  /** Medians of per-round ratios; null when a setup is missing. */
  ratio: { nginx1OverDirect: number; nginx3OverNginx1: number } | null;
  /** 1/rps(nginx -> 1 host) − 1/rps(direct): the machine time nginx adds per request, in µs. */
  nginxUsPerRequest: number | null;
  skipped: string[];
}

/** Why the row cannot run here, or undefined. */
export function multiHostUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const [cmd, args] of [['ip', ['-V']], ['/usr/sbin/nginx', ['-v']]] as const) {
    try { execFileSync(cmd, args, { stdio: 'ignore' }); } catch { return `${cmd} is not available`; }
  }
  return undefined;
}

async function loadBalancer(hosts: SimulatedHost[], name: string): Promise<{ nginx: RunningNginx; url: string }> {
  const port = await getPort({ host: '127.0.0.1' });
  const conf = await passengerCommand(['nginx-config', ...hosts.flatMap((h) => ['--upstream', `${h.address}:${HOST_PORT}`]), '--listen', `127.0.0.1:${port}`, '--upstream-name', name]);
  if (conf.code !== 0) throw new Error(`passenger nginx-config: ${conf.stderr}`);
  return { nginx: startNginx(conf.stdout), url: `http://127.0.0.1:${port}/` };
}

export async function measureMultiHost(scratch: string, settings: BenchSettings, load: Load, say: (line: string) => void): Promise<MultiHostResult> {
  const processes = 1;
  const result: MultiHostResult = { processesPerHost: processes, samples: [], median: { 'direct': null, 'nginx-1': null, 'nginx-3': null }, ratio: null, nginxUsPerRequest: null, skipped: [] };
  const hosts = createHosts(3, 'psgbn');
  const servers: RunningPassenger[] = [];
  const balancers: RunningNginx[] = [];
  try {
    const { appDir } = prepareApp(scratch, 'node', 'multi-host');
    servers.push(...await Promise.all(hosts.map((h) => startPassenger(appDir, {
      prefix: inHost(h), address: h.address, port: HOST_PORT, timeoutMs: 90_000,
      args: ['--min-instances', String(processes), '--max-pool-size', String(processes), '--environment', 'production', '--drain-delay', '0', '--trusted-proxies', h.peerAddress],
    }))));
    const one = await loadBalancer([hosts[0]!], 'one_host');
    const three = await loadBalancer(hosts, 'three_hosts');
    balancers.push(one.nginx, three.nginx);
    const urls: Record<MultiHostSetup, string> = { 'direct': `http://${hosts[0]!.address}:${HOST_PORT}/`, 'nginx-1': one.url, 'nginx-3': three.url };
    // Every host warmed up as much as the one measured alone (a core's JIT takes a few thousand requests), then each setup.
    const warm = [...hosts.map((h) => `http://${h.address}:${HOST_PORT}/`), ...Object.values(urls)];
    for (const url of warm) {
      await waitFor200(url, 30_000, () => true);
      await load({ url, connections: CONNECTIONS, durationSec: Math.max(2, settings.warmupSec) });
    }
    for (let rep = 1; rep <= settings.repetitions; rep++) {
      const order = MULTI_HOST_SETUPS.map((_, i) => MULTI_HOST_SETUPS[(i + rep - 1) % MULTI_HOST_SETUPS.length]!);
      for (const setup of order) {
        const c32 = await load({ url: urls[setup], connections: CONNECTIONS, durationSec: settings.durationSec });
        result.samples.push({ repetition: rep, setup, c32 });
        say(`round ${rep}/${settings.repetitions} multi-host ${LABELS[setup]}: ${Math.round(c32.rps)} rps c32 (p99 ${c32.latencyMs.p99} ms, errors ${c32.errorCount})`);
      }
    }
  } catch (e) {
    result.skipped.push((e as Error).message.split('\n')[0]!);
  } finally {
    for (const n of balancers) await n.stop();
    for (const s of servers) {
      await s.stop();
      rmSync(s.registryDir, { recursive: true, force: true });
    }
    removeHosts(hosts);
  }
  return summarise(result);
}

function summarise(r: MultiHostResult): MultiHostResult {
  const of = (setup: MultiHostSetup) => r.samples.filter((s) => s.setup === setup);
  for (const setup of MULTI_HOST_SETUPS) {
    const xs = of(setup);
    if (xs.length > 0) r.median[setup] = { rpsC32: Math.round(median(xs.map((s) => s.c32.rps))), p99C32Ms: median(xs.map((s) => s.c32.latencyMs.p99)) };
  }
  const perRound = (a: MultiHostSetup, b: MultiHostSetup) => r.samples.filter((s) => s.setup === a).flatMap((x) => {
    const y = r.samples.find((s) => s.setup === b && s.repetition === x.repetition);
    return y ? [x.c32.rps / y.c32.rps] : [];
  });
  const oneOverDirect = perRound('nginx-1', 'direct');
  const threeOverOne = perRound('nginx-3', 'nginx-1');
  const r2 = (n: number) => Math.round(n * 100) / 100;
  if (oneOverDirect.length > 0 && threeOverOne.length > 0) r.ratio = { nginx1OverDirect: r2(median(oneOverDirect)), nginx3OverNginx1: r2(median(threeOverOne)) };
  const d = r.median.direct?.rpsC32;
  const n1 = r.median['nginx-1']?.rpsC32;
  if (d && n1) r.nginxUsPerRequest = Math.round((1 / n1 - 1 / d) * 1e6);
  return r;
}

export function multiHostTable(r: MultiHostResult): string {
  const rows = [[`multi-host (Node hello, ${r.processesPerHost} process per host, c${CONNECTIONS})`, 'rps c32', 'p99 c32']];
  for (const setup of MULTI_HOST_SETUPS) {
    const f = r.median[setup];
    rows.push(f ? [LABELS[setup], String(f.rpsC32), `${f.p99C32Ms} ms`] : [LABELS[setup], 'skipped', '']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const text = rows.map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
  const ratio = r.ratio
    ? `\nnginx -> 1 host / no nginx: ${r.ratio.nginx1OverDirect.toFixed(2)} (nginx adds ${r.nginxUsPerRequest ?? '?'} µs of this machine's time per request); nginx -> 3 hosts / nginx -> 1 host: ${r.ratio.nginx3OverNginx1.toFixed(2)} (the hosts share this machine's cores)`
    : '';
  return text + ratio + (r.skipped.length ? `\n(${r.skipped.join('; ')})` : '');
}
