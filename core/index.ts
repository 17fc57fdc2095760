// The public plugin API: the only module plugins import (built-in ones
// included, so that a third party can do everything they do). Language
// helpers shared by plugins for the same language live in
// `passenger-ts/languages` (plugins/languages/), so that the core names none.
export { PLUGIN_API_VERSION, definePlugin, type Plugin, type PluginDefinition, type PluginKernel } from './plugin.ts';
export type { Kernel } from './kernel.ts';
export { ANY_APP_TYPE, PER_APP_TYPE_HOOKS } from './hooks.ts';
export type {
  KernelHooks, DetectContext, AppTypeMatch, ErrorContext, ProcessInfo, ExitInfo, GroupInfo, InstanceInfo,
  SpawnInfo, RequestEvent, RejectionReason, ResolveLoaderHook, BuildSpawnCommandHook, EnrichErrorReportHook,
  PerAppTypeHookName,
} from './hooks.ts';
export type { AppSpec, CoreOptions } from './config/app-spec.ts';
export type { LoaderSpec, SpawnCommand, SpawnMethod, Readiness } from './spawn/spawn-command.ts';
export type { ProcessSocket, ProtocolName } from './spawn/socket-address.ts';
export type { ErrorReport, ReportHint, ReportSection, JourneyStep } from './errors/report.ts';
export type { AppTypeDescriptor } from './registries/app-types.ts';
export type { OptionDef } from './registries/options.ts';
export type { OptionRegistry } from './registries/option-registry.ts';
export type { Protocol, ForwardTarget, ForwardOutcome } from './registries/protocols.ts';
export type { Registry } from './registries/registry.ts';
export type { FrontRequest, FrontResponse, RecyclableChunks } from './server/front.ts';
export { Stage } from './stage.ts';
export { detectByStartupFile, type StartupFileCheck } from './detect-by-startup-file.ts';
export { chooseInterpreter, type InterpreterRule, type InterpreterChoice } from './interpreter.ts';
export { shellQuote } from './util/shell-quote.ts';
export { portLoader, PORT_TOKEN, type PortLoaderOptions } from './spawn/port-loader.ts';
export { freePort } from './spawn/free-port.ts';
export { editDistance } from './util/edit-distance.ts';
export { PassengerError, isPassengerError } from './errors/passenger-error.ts';
export { codes, type ErrorCode } from './errors/codes.ts';
export { cgiVariables } from './protocols/cgi-vars.ts';
