// passenger-ts through its built-in HTTP engine, from the compiled build
// (dist/; tsx would add overhead) or, when that cannot be built, from source.
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import getPort from 'get-port';
import { launch } from '../proc/launch.ts';
import { isAlive, type ProcInfo } from '../proc/tree.ts';
import type { AppKind, RunningServer, StartOptions, Target } from './target.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');

/** How the CLI is started: the compiled entry, or the source entry through tsx. */
export interface OursEntry {
  args: string[];
  compiled: boolean;
}

export function oursEntry(compiled: boolean): OursEntry {
  return compiled
    ? { args: [join(repoRoot, 'bin/passenger.js')], compiled }
    : { args: ['--import', 'tsx', join(repoRoot, 'core/cli/main.ts')], compiled };
}

/** The app-type-specific flags; the same interpreters as the peers use. */
function appFlags(app: AppKind, appDir: string): string[] {
  if (app === 'wsgi' || app === 'asgi') return existsSync('/usr/bin/python3') ? ['--python', '/usr/bin/python3'] : [];
  if (app === 'php') {
    // As a user installs it: passenger-ts (this checkout, built) and the plugin in the app's node_modules.
    mkdirSync(join(appDir, 'node_modules'));
    symlinkSync(repoRoot, join(appDir, 'node_modules/passenger-ts'));
    cpSync(join(repoRoot, 'examples/plugins/php'), join(appDir, 'node_modules/passenger-plugin-php'), { recursive: true, filter: (src) => !/\/(?:node_modules|test)(?:\/|$)/.test(src) });
    writeFileSync(join(appDir, '.passengerrc.json'), JSON.stringify({ plugins: ['php'] }));
  }
  if (app === 'generic') {
    // Passengerfile.json, so that the command needs no quoting on the command line.
    writeFileSync(join(appDir, 'Passengerfile.json'), JSON.stringify({ app_start_command: 'exec node app.js' }));
  }
  return [];
}

/** `metrics`: with the metrics listener on (a loopback port), to measure what metrics cost the request path. */
/** `extraArgs`: more `passenger run` options (bench/ab.ts). */
export function oursTarget(app: AppKind, entry: OursEntry, metrics = false, extraArgs: string[] = []): Target {
  return {
    id: metrics ? `ours-${app}-metrics` : `ours-${app}`,
    server: 'ours',
    app,
    label: metrics ? `passenger-ts ${app} (metrics on)` : `passenger-ts ${app}`,
    spawnsOnDemand: !metrics,
    notes: (entry.compiled ? 'compiled build (dist/)' : 'from source through tsx (the build failed)') + (metrics ? '; metrics_address set' : ''),
    async unavailable() {
      // The plugin imports passenger-ts, which resolves to the build (dist/).
      if (app === 'php' && !entry.compiled) return 'the PHP plugin needs the compiled build (dist/), which failed';
      return undefined;
    },
    async start(o: StartOptions): Promise<RunningServer> {
      // Short: the app sockets live below it and Unix socket paths are limited to 107 bytes.
      const registry = mkdtempSync(join(tmpdir(), 'pb-'));
      // A queue as deep as the largest connection count: the c=200 figure is about
      // throughput, not about max_request_queue_size (Passenger gets the same).
      // No drain pause at the stop (5 s in production): the bench measures serving, and Passenger 6 has none.
      const args = [...entry.args, 'run', o.appDir, '--port', String(o.port), '--address', '127.0.0.1',
        '--min-instances', String(o.processes), '--max-pool-size', String(o.maxProcesses),
        '--max-request-queue-size', '0', '--environment', 'production', '--drain-delay', '0', '--log-level', 'warn',
        '--instance-registry-dir', registry, ...appFlags(app, o.appDir),
        ...(metrics ? ['--metrics-address', `127.0.0.1:${await getPort({ host: '127.0.0.1' })}`] : []), ...extraArgs];
      const l = launch(process.execPath, args, { cwd: o.appDir });
      return {
        startedAt: l.startedAt,
        alive: () => isAlive(l.pid),
        roots: () => [l.pid],
        classify(tree) {
          const core = tree.find((p) => /core-main\.[jt]s/.test(p.cmdline));
          // App processes are the core's children, or a preloader's (the preloader is a helper).
          const preloaders = new Set(tree.filter((p) => p.ppid === core?.pid && /preloader/i.test(p.cmdline)).map((p) => p.pid));
          const roots = tree.filter((p) => (p.ppid === core?.pid && !preloaders.has(p.pid)) || preloaders.has(p.ppid));
          // A generic app runs under a keeper shell (core/spawn/group-keeper.ts): its CPU is the whole subtree's.
          const apps = roots.map((r) => withDescendants(r, tree));
          const inApps = new Set(roots.flatMap((r) => subtree(r, tree).map((p) => p.pid)));
          return { core, apps, others: tree.filter((p) => p !== core && !inApps.has(p.pid)) };
        },
        output: l.output,
        async stop() {
          await l.stop(20_000);
          rmSync(registry, { recursive: true, force: true });
        },
      };
    },
  };
}

/** The process and everything below it. */
function subtree(root: ProcInfo, tree: readonly ProcInfo[]): ProcInfo[] {
  const found = [root];
  for (let i = 0; i < found.length; i++) for (const p of tree) if (p.ppid === found[i]!.pid) found.push(p);
  return found;
}

/** One app process with its descendants' CPU time and memory added in. */
function withDescendants(root: ProcInfo, tree: readonly ProcInfo[]): ProcInfo {
  const all = subtree(root, tree);
  if (all.length === 1) return root;
  const sum = (f: (p: ProcInfo) => number) => all.reduce((n, p) => n + f(p), 0);
  return { ...root, cpuSec: sum((p) => p.cpuSec), rssBytes: sum((p) => p.rssBytes), privateBytes: sum((p) => p.privateBytes) };
}
