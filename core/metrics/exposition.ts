// The /metrics answer: prom-client's registry does the text formats
// (Prometheus 0.0.4 and OpenMetrics 1.0) and the core's own process metrics
// (collectDefaultMetrics); ours are views that read the collector's numbers
// and the pool when scraped. Names, labels and help texts: docs/metrics.md.
import { Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { Pool } from '../pool/pool.ts';
import type { AppProcess } from '../pool/app-process.ts';
import { version } from '../paths.ts';
import type { MetricsCollector } from './collector.ts';
import type { FixedHistogram } from './histogram.ts';
import { EXIT_REASONS, REJECTION_REASONS, SPAWN_METHODS, SPAWN_OUTCOMES, STATUS_CLASSES } from './app-metrics.ts';

type Labels = Record<string, string | number>;
interface Sample { labels: Labels; value: number; metricName?: string }
type MetricType = 'counter' | 'gauge' | 'histogram';

export interface ExpositionSource {
  collector: MetricsCollector;
  pool: Pool;
  /** How often the watchdog restarted the core before this one. */
  coreRestarts: number;
}

export const PROCESS_STATES = ['spawning', 'enabled', 'disabling', 'disabled', 'stopping'] as const;

function processState(p: AppProcess): (typeof PROCESS_STATES)[number] {
  if (p.life !== 'alive') return 'stopping';
  return p.enabled === 'detached' ? 'stopping' : p.enabled;
}

/** A metric prom-client formats like its own: name, help, type and the samples of the moment. */
function view(name: string, help: string, type: MetricType, samples: () => Sample[]): Metric {
  const metric = {
    name, help, type, aggregator: 'sum',
    get: () => ({ name: metric.name, help, type, aggregator: 'sum', values: samples() }),
    reset: () => {},
  };
  return metric as unknown as Metric;
}

function histogramSamples(name: string, labels: Labels, h: FixedHistogram, out: Sample[]): void {
  let acc = 0;
  for (let i = 0; i < h.bounds.length; i++) {
    acc += h.counts[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: h.bounds[i]! }, value: acc });
  }
  out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: h.count });
  out.push({ metricName: `${name}_sum`, labels, value: h.sum });
  out.push({ metricName: `${name}_count`, labels, value: h.count });
}

function ourMetrics(src: ExpositionSource): Metric[] {
  const apps = () => src.collector.apps();
  const perApp = (f: (label: string, out: Sample[], appRoot: string) => void) => () => {
    const out: Sample[] = [];
    for (const m of apps()) f(m.label, out, m.appRoot);
    return out;
  };
  const metricsOf = (appRoot: string) => src.collector.app(appRoot);
  return [
    view('passenger_requests_total', 'Requests answered, by status class (none: the connection ended before a status was sent).', 'counter',
      perApp((app, out, root) => STATUS_CLASSES.forEach((c, i) => out.push({ labels: { app, status_class: c }, value: metricsOf(root).requests[i]! })))),
    view('passenger_request_duration_seconds', 'Time from the request reaching the core to the last byte of the response.', 'histogram',
      perApp((app, out, root) => histogramSamples('passenger_request_duration_seconds', { app }, metricsOf(root).requestSeconds, out))),
    view('passenger_request_queue_seconds', 'Time a request waited for an app process.', 'histogram',
      perApp((app, out, root) => histogramSamples('passenger_request_queue_seconds', { app }, metricsOf(root).queueSeconds, out))),
    view('passenger_requests_in_flight', 'Requests being handled now, queued ones included.', 'gauge',
      perApp((app, out, root) => out.push({ labels: { app }, value: metricsOf(root).inFlight }))),
    view('passenger_request_queue_length', 'Requests waiting for an app process now.', 'gauge',
      perApp((app, out, root) => out.push({ labels: { app }, value: src.pool.findGroup(root)?.queueLength ?? 0 }))),
    view('passenger_request_rejections_total', 'Requests the server refused itself, by reason.', 'counter',
      perApp((app, out, root) => REJECTION_REASONS.forEach((reason, i) => out.push({ labels: { app, reason }, value: metricsOf(root).rejections[i]! })))),
    view('passenger_processes', 'App processes, by state.', 'gauge',
      perApp((app, out, root) => {
        const g = src.pool.findGroup(root);
        const counts = new Map<string, number>(PROCESS_STATES.map((s) => [s, 0]));
        counts.set('spawning', g?.spawning ?? 0);
        for (const p of g?.processes ?? []) { const s = processState(p); counts.set(s, counts.get(s)! + 1); }
        for (const [state, value] of counts) out.push({ labels: { app, state }, value });
      })),
    view('passenger_process_spawns_total', 'Attempts to start an app process, by spawn method and outcome.', 'counter',
      perApp((app, out, root) => SPAWN_METHODS.forEach((method, i) => SPAWN_OUTCOMES.forEach((outcome, j) =>
        out.push({ labels: { app, method, outcome }, value: metricsOf(root).spawns[i]![j]! }))))),
    view('passenger_process_spawn_duration_seconds', 'Time to start an app process, successful or not.', 'histogram',
      perApp((app, out, root) => SPAWN_METHODS.forEach((method, i) =>
        histogramSamples('passenger_process_spawn_duration_seconds', { app, method }, metricsOf(root).spawnSeconds[i]!, out)))),
    view('passenger_process_exits_total', 'App processes that exited, by reason.', 'counter',
      perApp((app, out, root) => EXIT_REASONS.forEach((reason, i) => out.push({ labels: { app, reason }, value: metricsOf(root).exits[i]! })))),
    view('passenger_process_memory_bytes', 'Resident memory of an app process, as last measured by the pool.', 'gauge',
      perApp((app, out, root) => {
        for (const p of src.pool.findGroup(root)?.processes ?? []) if (p.rssBytes > 0) out.push({ labels: { app, pid: p.pid }, value: p.rssBytes });
      })),
    view('passenger_process_handed_connections', 'Client connections an app process holds that connection_handoff gave it (their requests bypass the request metrics).', 'gauge',
      perApp((app, out, root) => {
        const g = src.pool.findGroup(root);
        if (g?.spec.options.connection_handoff !== true) return;
        for (const p of g.processes) if (p.life === 'alive') out.push({ labels: { app, pid: p.pid }, value: p.handedConnections });
      })),
    view('passenger_process_cpu_seconds_total', 'User and system CPU time of an app process, as last measured by the pool.', 'counter',
      perApp((app, out, root) => {
        for (const p of src.pool.findGroup(root)?.processes ?? []) if (p.rssBytes > 0) out.push({ labels: { app, pid: p.pid }, value: p.cpuSeconds });
      })),
    view('passenger_core_restarts_total', 'Times the watchdog restarted the core after it died.', 'counter',
      () => [{ labels: {}, value: src.coreRestarts }]),
    view('passenger_build_info', 'The server version; always 1.', 'gauge',
      () => [{ labels: { version }, value: 1 }]),
  ];
}

const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export const PROMETHEUS_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

export class Exposition {
  readonly #prometheus = new Registry();
  #openMetrics: Registry<typeof OPENMETRICS_TYPE> | undefined;

  constructor(src: ExpositionSource) {
    for (const m of ourMetrics(src)) this.#prometheus.registerMetric(m);
    collectDefaultMetrics({ register: this.#prometheus });
    // Gauges that prom-client names like counters: Prometheus' own linter (promtool) rejects
    // them, and nodejs_active_handles, nodejs_active_requests and nodejs_active_resources say the same.
    for (const name of MISNAMED_DEFAULTS) this.#prometheus.removeSingleMetric(name);
  }

  /** The text and its content type; OpenMetrics when `accept` asks for it. */
  async render(accept: string | undefined): Promise<{ body: string; contentType: string }> {
    if (accept?.includes('application/openmetrics-text')) {
      return { body: await this.#openMetricsRegistry().metrics(), contentType: OPENMETRICS_TYPE };
    }
    return { body: await this.#prometheus.metrics(), contentType: PROMETHEUS_TYPE };
  }

  // prom-client renames counters (drops _total) on the metric objects it formats as OpenMetrics:
  // this registry holds stand-ins, so the Prometheus registry's names stay as they are.
  #openMetricsRegistry(): Registry<typeof OPENMETRICS_TYPE> {
    if (this.#openMetrics) return this.#openMetrics;
    const om = new Registry<typeof OPENMETRICS_TYPE>();
    om.setContentType(OPENMETRICS_TYPE);
    for (const m of this.#prometheus.getMetricsAsArray()) {
      const original = m as unknown as { name: string; help: string; type: string; aggregator: string; get(): Promise<unknown> };
      const standIn = {
        name: original.name, help: original.help, type: original.type, aggregator: original.aggregator,
        // The name the registry gave the stand-in, not the original's.
        get: async () => ({ ...(await original.get() as object), name: standIn.name }),
        reset: () => {},
      };
      om.registerMetric(standIn as unknown as Metric);
    }
    return this.#openMetrics = om;
  }
}
