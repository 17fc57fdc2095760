// The typed hooks object: the whole plugin API surface. Every hook says who
// calls it and what a tap's return value means. Frozen: plugins tap, never add.
import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, HookMap, SyncHook } from 'tapable';
import type { Registry } from './registries/registry.ts';
import type { AppTypeDescriptor } from './registries/app-types.ts';
import type { OptionRegistry } from './registries/option-registry.ts';
import type { Protocol } from './registries/protocols.ts';
import type { AppSpec } from './config/app-spec.ts';
import type { LoaderSpec, SpawnCommand, SpawnMethod } from './spawn/spawn-command.ts';
import type { ErrorReport } from './errors/report.ts';
import type { FrontRequest } from './server/front.ts';

export interface DetectContext {
  appRoot: string;
  /** Options known before detection (config file, env, flags), unvalidated for plugin keys. */
  options: Readonly<Record<string, unknown>>;
  /** Whether a path relative to the app root exists. */
  exists(relPath: string): Promise<boolean>;
  /** Reads a file relative to the app root, or undefined when missing. */
  readFile(relPath: string): Promise<string | undefined>;
  /**
   * Says why the directory is almost yours ("found main.py, but it defines no
   * ASGI app"): when no detector matches, the error lists it first.
   */
  nearMiss(message: string): void;
}

export interface AppTypeMatch {
  appType: string;
  /** Absolute path. */
  startupFile: string;
  reason: string;
}

export interface ErrorContext<O extends object = {}> {
  app: AppSpec<O>;
  /** The loader-reported error class and properties, when the loader got that far. */
  errorClass?: string;
  output: string[];
}

export interface ProcessInfo {
  pid: number;
  appRoot: string;
  appType: string;
  /** processSpawned only: how it was started, and how long that took. */
  spawnMethod?: SpawnMethod;
  spawnDurationMs?: number;
}

/** A spawn about to begin (one at a time per app). */
export interface SpawnInfo {
  appRoot: string;
  appType: string;
  method: SpawnMethod;
}

/** Why the server answered a request itself instead of letting the app answer. */
export type RejectionReason = 'queue_full' | 'queue_timeout' | 'body_too_large' | 'request_timeout';

/**
 * One request on its way through the core. requestStarted and requestFinished
 * get the same object, so a tap may keep per-request state in a WeakMap.
 * Read-only for taps; times are performance.now() milliseconds.
 */
export interface RequestEvent {
  readonly app: AppSpec;
  readonly request: FrontRequest;
  readonly startedAt: number;
  /** Time spent waiting for a process; -1 while (or when) it got none. */
  readonly queueMs: number;
  /** The app process that served it (the last one tried); 0 when none did. */
  readonly pid: number;
  /** The status sent to the client; 0 when none was sent. */
  readonly status: number;
  /** Response body bytes written to the client. */
  readonly bytes: number;
  /** Time from the start to the last byte; -1 until finished. */
  readonly durationMs: number;
  /** Set when the server refused the request itself. */
  readonly rejection: RejectionReason | undefined;
  /** The response was cut off (client gone, app failed mid-response). */
  readonly aborted: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  reason: 'idle' | 'restart' | 'max_requests' | 'memory_limit' | 'max_request_time' | 'crash' | 'shutdown' | 'evicted' | 'detached';
}

export interface GroupInfo {
  appRoot: string;
  queueLength: number;
}

export interface InstanceInfo {
  instanceDir: string;
  mode: 'standalone' | 'scgi';
}

/**
 * The key of a per-app-type hook whose taps run for every app type, after
 * the app type's own taps (a plugin that adds to every app's environment or
 * error report taps `hooks.enrichErrorReport.for(ANY_APP_TYPE)`).
 */
export const ANY_APP_TYPE = '*';

export type ResolveLoaderHook<O extends object = {}> = AsyncSeriesBailHook<[AppSpec<O>, SpawnMethod], LoaderSpec | undefined>;
export type BuildSpawnCommandHook<O extends object = {}> = AsyncSeriesWaterfallHook<[SpawnCommand, AppSpec<O>]>;
export type EnrichErrorReportHook<O extends object = {}> = AsyncSeriesWaterfallHook<[ErrorReport, ErrorContext<O>]>;

/** The hooks keyed by app type: `hooks.resolveLoader.for('rack')`. */
export const PER_APP_TYPE_HOOKS = ['resolveLoader', 'buildSpawnCommand', 'enrichErrorReport'] as const;
export type PerAppTypeHookName = typeof PER_APP_TYPE_HOOKS[number];

/** `O` types the plugin options in the AppSpec the per-app-type hooks pass (definePlugin<O>). */
export interface KernelHooks<O extends object = {}> {
  /** Boot, once: a plugin adds the app types it runs. */
  readonly registerAppTypes: SyncHook<[Registry<AppTypeDescriptor>]>;
  /** Boot, once: a plugin adds its options (e.g. `ruby`) to the schema, shares one (`shared: true`) or reads another plugin's (`use(name)`). */
  readonly registerOptions: SyncHook<[OptionRegistry]>;
  /** Boot, once: protocols the core can speak to app processes. */
  readonly registerProtocols: SyncHook<[Registry<Protocol>]>;
  /** Per app: which type is this directory? First answer wins; `undefined` means "not mine". */
  readonly detectAppType: AsyncSeriesBailHook<[DetectContext], AppTypeMatch | undefined>;
  /**
   * Per spawn, keyed by app type: the program that runs the app. The first
   * answer wins (`for(type)` taps, then `for(ANY_APP_TYPE)` taps).
   */
  readonly resolveLoader: HookMap<ResolveLoaderHook<O>>;
  /** Per spawn, keyed by app type: every tap may change the command (env, args, handshake keys) and must return it. */
  readonly buildSpawnCommand: HookMap<BuildSpawnCommandHook<O>>;
  /** Per failed spawn, keyed by app type: taps add hints and sections and must return the report. A throwing tap is skipped. */
  readonly enrichErrorReport: HookMap<EnrichErrorReportHook<O>>;
  /** Once the server listens. */
  readonly started: AsyncSeriesHook<[InstanceInfo]>;
  /** Before the server exits; bounded by the shutdown deadline. */
  readonly shutdown: AsyncSeriesHook<[string]>;
  /** SIGHUP (to the watchdog or the core): reopen log files, reload certificates. The argument says what asked. */
  readonly reload: AsyncSeriesHook<[string]>;
  /** Notifications, never awaited; a throwing tap is logged. */
  readonly processSpawned: SyncHook<[ProcessInfo]>;
  readonly processExited: SyncHook<[ProcessInfo, ExitInfo]>;
  readonly spawnFailed: SyncHook<[ErrorReport]>;
  readonly queueFull: SyncHook<[GroupInfo]>;
  /** Before a spawn starts; followed by processSpawned or spawnFailed. */
  readonly spawnStarted: SyncHook<[SpawnInfo]>;
  /**
   * On the request path: keep taps cheap and allocation-free. Called only
   * when tapped (the core checks isUsed() first and builds nothing otherwise).
   */
  readonly requestStarted: SyncHook<[RequestEvent]>;
  readonly requestFinished: SyncHook<[RequestEvent]>;
}

export function createHooks(): KernelHooks {
  return Object.freeze({
    registerAppTypes: new SyncHook<[Registry<AppTypeDescriptor>]>(['registry']),
    registerOptions: new SyncHook<[OptionRegistry]>(['registry']),
    registerProtocols: new SyncHook<[Registry<Protocol>]>(['registry']),
    detectAppType: new AsyncSeriesBailHook<[DetectContext], AppTypeMatch | undefined>(['context']),
    resolveLoader: new HookMap<ResolveLoaderHook>(() => new AsyncSeriesBailHook(['app', 'method']), 'resolveLoader'),
    buildSpawnCommand: new HookMap<BuildSpawnCommandHook>(() => new AsyncSeriesWaterfallHook(['command', 'app']), 'buildSpawnCommand'),
    enrichErrorReport: new HookMap<EnrichErrorReportHook>(() => new AsyncSeriesWaterfallHook(['report', 'context']), 'enrichErrorReport'),
    started: new AsyncSeriesHook<[InstanceInfo]>(['info']),
    shutdown: new AsyncSeriesHook<[string]>(['reason']),
    reload: new AsyncSeriesHook<[string]>(['reason']),
    processSpawned: new SyncHook<[ProcessInfo]>(['process']),
    processExited: new SyncHook<[ProcessInfo, ExitInfo]>(['process', 'exit']),
    spawnFailed: new SyncHook<[ErrorReport]>(['report']),
    queueFull: new SyncHook<[GroupInfo]>(['group']),
    spawnStarted: new SyncHook<[SpawnInfo]>(['spawn']),
    requestStarted: new SyncHook<[RequestEvent]>(['request']),
    requestFinished: new SyncHook<[RequestEvent]>(['request']),
  });
}

/** The hooks an app type's taps run in: its own, then those for every type. */
function forApp<H>(map: HookMap<H>, appType: string): H[] {
  const hooks: H[] = [];
  const own = map.get(appType);
  if (own) hooks.push(own);
  const any = appType === ANY_APP_TYPE ? undefined : map.get(ANY_APP_TYPE);
  if (any) hooks.push(any);
  return hooks;
}

/** Calls resolveLoader for an app: the first answer wins. */
export async function callResolveLoader(hooks: KernelHooks, app: AppSpec, method: SpawnMethod): Promise<LoaderSpec | undefined> {
  for (const hook of forApp(hooks.resolveLoader, app.appType)) {
    const loader = await hook.promise(app, method);
    if (loader !== undefined) return loader;
  }
  return undefined;
}

/** Calls buildSpawnCommand for an app: each tap gets the previous one's command. */
export async function callBuildSpawnCommand(hooks: KernelHooks, command: SpawnCommand, app: AppSpec): Promise<SpawnCommand> {
  for (const hook of forApp(hooks.buildSpawnCommand, app.appType)) command = await hook.promise(command, app);
  return command;
}

/** Calls enrichErrorReport for the report's app type: each tap gets the previous one's report. */
export async function callEnrichErrorReport(hooks: KernelHooks, report: ErrorReport, context: ErrorContext): Promise<ErrorReport> {
  for (const hook of forApp(hooks.enrichErrorReport, report.appType)) report = await hook.promise(report, context);
  return report;
}
