// Phusion Passenger 6 standalone with its built-in engine (no nginx), with
// turbocaching off: its response micro-cache would answer repeated hello-world
// GETs without asking the app, which measures a cache, not a server.
// `passenger start` daemonizes its watchdog, so stopping goes through
// `passenger stop` and is then verified by PID.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, runToEnd } from '../proc/launch.ts';
import { allProcesses, isAlive, processTree } from '../proc/tree.ts';
import { which } from './which.ts';
import type { AppKind, RunningServer, StartOptions, Target } from './target.ts';

// App processes are titled "Passenger RubyApp: /dir" (NodeApp, WsgiApp...); the preloader is a helper.
const APP_PROCESS = /^Passenger \w*App: /;

function appFlags(app: AppKind): string[] {
  if (app === 'wsgi') return existsSync('/usr/bin/python3') ? ['--python', '/usr/bin/python3'] : [];
  if (app === 'node') return ['--nodejs', process.execPath];
  return [];
}

async function waitUntilGone(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids.filter(isAlive);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(isAlive);
  }
  return left;
}

export function passengerTarget(app: AppKind): Target {
  return {
    id: `passenger-${app}`,
    server: 'passenger',
    app,
    label: `Passenger 6 ${app}`,
    spawnsOnDemand: true,
    notes: 'passenger start --engine builtin --disable-turbocaching',
    async unavailable() {
      if (!which('passenger')) return 'Phusion Passenger is not installed (bench/install-peers.sh installs the Debian package "passenger")';
      const v = await runToEnd('passenger', ['--version'], { timeoutMs: 20_000 });
      return /Passenger\(R\) 6\./.test(v.output) ? undefined : `passenger --version says "${v.output.trim()}", not Passenger 6`;
    },
    async start(o: StartOptions): Promise<RunningServer> {
      const pidFile = join(o.workDir, 'passenger.pid');
      const logFile = join(o.workDir, 'passenger.log');
      const l = launch('passenger', ['start', '--engine', 'builtin', '--port', String(o.port), '--address', '127.0.0.1',
        '--min-instances', String(o.processes), '--max-pool-size', String(o.maxProcesses),
        '--max-request-queue-size', '0', '--disable-turbocaching', '--environment', 'production',
        '--pid-file', pidFile, '--log-file', logFile, '--instance-registry-dir', o.workDir, ...appFlags(app)], { cwd: o.appDir });
      const watchdog = (): number | undefined => {
        try { return Number(readFileSync(pidFile, 'utf8').trim()) || undefined; } catch { return undefined; }
      };
      // The temp-dir toucher daemonizes on its own; it names our log file.
      const helpers = () => allProcesses().filter((p) => p.cmdline.includes(o.workDir)).map((p) => p.pid);
      const roots = () => [l.pid, ...[watchdog()].filter((x): x is number => x !== undefined), ...helpers()];
      return {
        startedAt: l.startedAt,
        alive: () => isAlive(l.pid),
        roots,
        classify(tree) {
          const core = tree.find((p) => /^Passenger core/.test(p.cmdline));
          // Ruby and Node apps set a title; Python ones do not but are the core's own children
          // (as are, briefly, PassengerAgent spawn helpers, which are not apps).
          const apps = tree.filter((p) => APP_PROCESS.test(p.cmdline) || (core !== undefined && p.ppid === core.pid && !/AppPreloader|PassengerAgent/.test(p.cmdline)));
          return { core, apps, others: tree.filter((p) => p !== core && !apps.includes(p)) };
        },
        output: () => l.output() + (existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-4000) : ''),
        async stop() {
          const pids = [...roots(), ...processTree(roots()).map((p) => p.pid)];
          if (existsSync(pidFile)) await runToEnd('passenger', ['stop', '--pid-file', pidFile], { cwd: o.appDir, timeoutMs: 30_000 });
          await l.stop(15_000);
          const left = await waitUntilGone([...new Set(pids)], 15_000);
          for (const pid of left) {
            try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
          }
        },
      };
    },
  };
}
