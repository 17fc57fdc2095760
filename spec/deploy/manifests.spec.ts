// deploy/Dockerfile and deploy/kubernetes/*.yaml against the real server
// (issue 18, item 5). No container can start on these machines, so instead:
// the manifests are parsed, everything they name (ports, probe paths, the
// stop signal, timeouts, the metric the autoscaler reads) is checked for
// consistency, and the server is started with the manifest's own arguments
// (on loopback and free ports) to hit the probe paths and stop it the way
// Kubernetes does.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import yaml from 'js-yaml';
import { repoRoot, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { STOP_SIGNALS } from '../../core/signals.ts';

const load = (name: string): any => yaml.load(readFileSync(join(repoRoot, 'deploy/kubernetes', name), 'utf8'));
const dockerfile = readFileSync(join(repoRoot, 'deploy/Dockerfile'), 'utf8');

/** A Dockerfile instruction's JSON-array form (the last of that name). */
function instruction(name: string): string[] {
  const lines = dockerfile.replace(/\\\n\s*/g, ' ').split('\n').filter((l) => l.startsWith(`${name} `));
  return JSON.parse(lines.at(-1)!.slice(name.length + 1).replace(/^.*?(?=\[)/, '')) as string[];
}

function flag(args: string[], name: string): string {
  const i = args.indexOf(name);
  expect(i, `${name} in the args`).to.be.greaterThan(-1);
  return args[i + 1]!;
}

describe('deploy/: Dockerfile and Kubernetes manifests', function () {
  this.timeout(60000);
  const deployment = load('deployment.yaml');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const args: string[] = container.args;
  const portByName = new Map<string, number>(container.ports.map((p: any) => [p.name, p.containerPort]));
  const probePort = (probe: any) => (typeof probe.httpGet.port === 'string' ? portByName.get(probe.httpGet.port) : probe.httpGet.port);

  it('the Dockerfile runs the same arguments, exposes the same ports, stops with a graceful signal and checks /healthz', () => {
    expect(instruction('CMD')).to.deep.equal(args);
    expect(instruction('ENTRYPOINT')).to.include.members(['passenger', 'run']);
    const stopSignal = /^STOPSIGNAL (\S+)$/m.exec(dockerfile)![1]!;
    expect(STOP_SIGNALS as readonly string[]).to.include(stopSignal);
    // SIGINT would skip the drain pause (docs/signals.md).
    expect(stopSignal).to.not.equal('SIGINT');
    expect(/^EXPOSE (.*)$/m.exec(dockerfile)![1]!.split(/\s+/).map(Number)).to.have.members([...portByName.values()]);
    expect(dockerfile).to.match(/^USER (?!root)\S+$/m);
    expect(dockerfile).to.include(`http://127.0.0.1:${portByName.get('metrics')}/healthz`);
    expect(dockerfile).to.match(/^FROM node:20-bookworm-slim$/m);
  });

  it('the ports the manifests name are the ones the args configure', () => {
    expect(portByName.get('http')).to.equal(Number(flag(args, '--port')));
    expect(portByName.get('metrics')).to.equal(Number(flag(args, '--metrics-address').split(':').at(-1)));
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) expect(probePort(probe)).to.equal(portByName.get('metrics'));
    const service = load('service.yaml');
    expect(service.spec.selector).to.deep.equal(deployment.spec.selector.matchLabels);
    for (const p of service.spec.ports) expect(portByName.has(p.targetPort), `Service targetPort ${p.targetPort}`).to.equal(true);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).to.equal(String(portByName.get('metrics')));
  });

  it('terminationGracePeriodSeconds covers preStop + drain_delay + shutdown_timeout, with room for the apps to exit', () => {
    const preStop = container.lifecycle.preStop.exec.command;
    expect(preStop[0]).to.equal('sleep');
    const needed = Number(preStop[1]) + Number(flag(args, '--drain-delay')) + Number(flag(args, '--shutdown-timeout')) + 5;
    expect(pod.terminationGracePeriodSeconds).to.be.at.least(needed);
    expect(flag(args, '--log-format')).to.equal('json');
    expect(flag(args, '--log-file')).to.equal('-');
    expect(container.resources.requests).to.have.keys('cpu', 'memory');
  });

  it('the autoscalers target the Deployment; the custom-metric one reads a metric the server exports', () => {
    for (const name of ['hpa.yaml', 'hpa-custom-metric.yaml']) {
      const hpa = load(name);
      expect(hpa.spec.scaleTargetRef).to.include({ kind: 'Deployment', name: deployment.metadata.name });
    }
    expect(load('hpa.yaml').spec.metrics[0].resource.name).to.equal('cpu');
  });

  describe('the server started with the manifest args', () => {
    let p: RunningPassenger | undefined;
    let httpUrl: string;
    let metricsUrl: string;
    const paths = { startup: container.startupProbe.httpGet.path, liveness: container.livenessProbe.httpGet.path, readiness: container.readinessProbe.httpGet.path };

    before(async () => {
      const httpPort = await getPort({ host: '127.0.0.1' });
      const metricsPort = await getPort({ host: '127.0.0.1' });
      // Loopback and free ports instead of 0.0.0.0:3000 and :9469; every other argument as in the manifest.
      const local = args.map((a, i) => (args[i - 1] === '--port' ? String(httpPort) : args[i - 1] === '--metrics-address' ? `127.0.0.1:${metricsPort}` : a === '0.0.0.0' ? '127.0.0.1' : a));
      p = await startPassenger(join(repoRoot, 'examples/hello-node'), { args: local, port: httpPort });
      httpUrl = `http://127.0.0.1:${httpPort}`;
      metricsUrl = `http://127.0.0.1:${metricsPort}`;
    });
    after(async () => stopAndClean(p));

    it('answers the startup, liveness and readiness probes, serves the app, and exports the autoscaler metric', async () => {
      for (const path of Object.values(paths)) expect((await fetch(metricsUrl + path)).status, path).to.equal(200);
      expect((await fetch(httpUrl)).status).to.equal(200);
      const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
      expect(metrics).to.include(load('hpa-custom-metric.yaml').spec.metrics[0].pods.metric.name);
    });

    it('logs JSON lines on stdout (log_format json, log_file -)', () => {
      const lines = p!.stdout().split('\n').filter((l) => l.includes('serving'));
      expect(lines.length).to.be.greaterThan(0);
      expect(JSON.parse(lines[0]!)).to.include({ level: 'info' }).and.include.keys('time', 'level', 'pid', 'msg');
    });

    it('on the stop signal: readiness 503 at once while still serving for drain_delay, then exits 0 within the grace period', async () => {
      const signal = /^STOPSIGNAL (\S+)$/m.exec(dockerfile)![1]! as NodeJS.Signals;
      const started = Date.now();
      const exited = p!.stop(signal);
      await p!.waitForOutput(/still serving for drain_delay \(5 s\)/);
      expect((await fetch(metricsUrl + paths.readiness)).status).to.equal(503);
      expect((await fetch(metricsUrl + paths.liveness)).status).to.equal(200);
      expect((await fetch(httpUrl)).status).to.equal(200);
      expect(await exited).to.equal(0);
      const graceLeft = pod.terminationGracePeriodSeconds - Number(container.lifecycle.preStop.exec.command[1]);
      expect(Date.now() - started, 'stopped before Kubernetes would SIGKILL').to.be.below(graceLeft * 1000);
    });
  });
});
