// A bounded load through a load balancer: `clients` loops of GET requests on
// keep-alive connections, each loop stopping after `maxPerClient` requests
// or `maxMs`, whichever comes first. Counts answers per body (which host
// served) and keeps every failure with its reason, so a spec can assert
// exactly how many failed and why.
import http from 'node:http';

export interface LbLoadResult {
  ok: number;
  failed: number;
  failures: string[];
  /** Answers per first word of the body (the spec apps answer with their host's name first). */
  byBody: Map<string, number>;
}

export interface LbLoad {
  result: LbLoadResult;
  /** Requests sent and not answered yet. */
  inFlight(): number;
  stop(): Promise<LbLoadResult>;
}

/** `newConnections`: a new TCP connection for every request (no keep-alive), to catch refused connections too. */
export function lbLoad(opts: { port: number; path: string; clients: number; maxPerClient: number; maxMs: number; method?: string; newConnections?: boolean }): LbLoad {
  const agent = new http.Agent({ keepAlive: opts.newConnections !== true, maxSockets: opts.clients });
  const result: LbLoadResult = { ok: 0, failed: 0, failures: [], byBody: new Map() };
  const deadline = Date.now() + opts.maxMs;
  let stopped = false;
  let inFlight = 0;
  const once = () => new Promise<void>((resolve) => {
    inFlight++;
    const done = (failure?: string, body?: string) => {
      inFlight--;
      if (failure !== undefined) { result.failed++; result.failures.push(failure); } else {
        result.ok++;
        result.byBody.set(body!, (result.byBody.get(body!) ?? 0) + 1);
      }
      resolve();
    };
    const req = http.request({ host: '127.0.0.1', port: opts.port, path: opts.path, method: opts.method ?? 'GET', agent, timeout: 15_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => (res.statusCode === 200 ? done(undefined, body.split(' ')[0]!.trim()) : done(`${res.statusCode}: ${body.slice(0, 200)}`)));
      res.on('error', (e) => done(`response: ${e.message}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (e) => done(`request: ${e.message}`));
    // A POST carries a small body: nginx never retries it on another host once sent.
    req.end(opts.method === 'POST' ? 'x=1' : undefined);
  });
  const loops = Array.from({ length: opts.clients }, async () => {
    for (let i = 0; i < opts.maxPerClient && !stopped && Date.now() < deadline; i++) await once();
  });
  return {
    result,
    inFlight: () => inFlight,
    async stop() {
      stopped = true;
      await Promise.all(loops);
      agent.destroy();
      return result;
    },
  };
}
