// The typed hooks object: the whole plugin API surface. Every hook says who
// calls it and what a tap's return value means. Frozen: plugins tap, never add.
import { AsyncSeriesBailHook, AsyncSeriesHook, AsyncSeriesWaterfallHook, SyncHook } from 'tapable';
import type { Registry } from './registries/registry.ts';
import type { AppTypeDescriptor } from './registries/app-types.ts';
import type { OptionDef } from './registries/options.ts';
import type { Protocol } from './registries/protocols.ts';
import type { AppSpec } from './config/app-spec.ts';
import type { LoaderSpec, SpawnCommand, SpawnMethod } from './spawn/spawn-command.ts';
import type { ErrorReport } from './errors/report.ts';

export interface DetectContext {
  appRoot: string;
  /** Options known before detection (config file, env, flags), unvalidated for plugin keys. */
  options: Readonly<Record<string, unknown>>;
  /** Whether a path relative to the app root exists. */
  exists(relPath: string): Promise<boolean>;
  /** Reads a file relative to the app root, or undefined when missing. */
  readFile(relPath: string): Promise<string | undefined>;
}

export interface AppTypeMatch {
  appType: string;
  /** Absolute path. */
  startupFile: string;
  reason: string;
}

export interface ErrorContext {
  app: AppSpec;
  /** The loader-reported error class and properties, when the loader got that far. */
  errorClass?: string;
  output: string[];
}

export interface ProcessInfo {
  pid: number;
  appRoot: string;
  appType: string;
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

export interface KernelHooks {
  /** Boot, once: a plugin adds the app types it runs. */
  readonly registerAppTypes: SyncHook<[Registry<AppTypeDescriptor>]>;
  /** Boot, once: a plugin adds its options (e.g. `ruby`) to the schema. */
  readonly registerOptions: SyncHook<[Registry<OptionDef>]>;
  /** Boot, once: protocols the core can speak to app processes. */
  readonly registerProtocols: SyncHook<[Registry<Protocol>]>;
  /** Per app: which type is this directory? First answer wins; `undefined` means "not mine". */
  readonly detectAppType: AsyncSeriesBailHook<[DetectContext], AppTypeMatch | undefined>;
  /** Per spawn: the program that runs `app.appType`. The owning plugin answers; others return undefined. */
  readonly resolveLoader: AsyncSeriesBailHook<[AppSpec, SpawnMethod], LoaderSpec | undefined>;
  /** Per spawn: every tap may change the command (env, args, handshake keys) and must return it. */
  readonly buildSpawnCommand: AsyncSeriesWaterfallHook<[SpawnCommand, AppSpec]>;
  /** Per failed spawn: taps add hints and sections and must return the report. A throwing tap is skipped. */
  readonly enrichErrorReport: AsyncSeriesWaterfallHook<[ErrorReport, ErrorContext]>;
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
}

export function createHooks(): KernelHooks {
  return Object.freeze({
    registerAppTypes: new SyncHook<[Registry<AppTypeDescriptor>]>(['registry']),
    registerOptions: new SyncHook<[Registry<OptionDef>]>(['registry']),
    registerProtocols: new SyncHook<[Registry<Protocol>]>(['registry']),
    detectAppType: new AsyncSeriesBailHook<[DetectContext], AppTypeMatch | undefined>(['context']),
    resolveLoader: new AsyncSeriesBailHook<[AppSpec, SpawnMethod], LoaderSpec | undefined>(['app', 'method']),
    buildSpawnCommand: new AsyncSeriesWaterfallHook<[SpawnCommand, AppSpec]>(['command', 'app']),
    enrichErrorReport: new AsyncSeriesWaterfallHook<[ErrorReport, ErrorContext]>(['report', 'context']),
    started: new AsyncSeriesHook<[InstanceInfo]>(['info']),
    shutdown: new AsyncSeriesHook<[string]>(['reason']),
    reload: new AsyncSeriesHook<[string]>(['reason']),
    processSpawned: new SyncHook<[ProcessInfo]>(['process']),
    processExited: new SyncHook<[ProcessInfo, ExitInfo]>(['process', 'exit']),
    spawnFailed: new SyncHook<[ErrorReport]>(['report']),
    queueFull: new SyncHook<[GroupInfo]>(['group']),
  });
}
