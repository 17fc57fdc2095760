// Type tests of the public API: this file must typecheck (npm run typecheck),
// and each @ts-expect-error must stay an error. It pins what core/index.ts and
// passenger-ts/languages export, and how plugin code written against them types.
// It is never run.
import {
  ANY_APP_TYPE, PER_APP_TYPE_HOOKS, PLUGIN_API_VERSION, Stage, chooseInterpreter, codes, definePlugin, detectByStartupFile,
  editDistance, isPassengerError, PassengerError, shellQuote, cgiVariables,
  type AppSpec, type AppTypeDescriptor, type AppTypeMatch, type BuildSpawnCommandHook, type CoreOptions, type DetectContext,
  type EnrichErrorReportHook, type ErrorCode, type ErrorContext, type ErrorReport, type ExitInfo, type ForwardOutcome,
  type ForwardTarget, type FrontRequest, type FrontResponse, type GroupInfo, type InstanceInfo, type InterpreterChoice,
  type InterpreterRule, type JourneyStep, type Kernel, type KernelHooks, type LoaderSpec, type OptionDef, type OptionRegistry,
  type PerAppTypeHookName, type Plugin, type PluginDefinition, type PluginKernel, type ProcessInfo, type ProcessSocket,
  type Protocol, type ProtocolName, type Readiness, type RecyclableChunks, type Registry, type RejectionReason, type ReportHint, type ReportSection,
  type RequestEvent, type ResolveLoaderHook, type SpawnCommand, type SpawnInfo, type SpawnMethod,
} from '../../core/index.ts';
import { choosePython, nodeHints, pythonHints, pythonOption, rubyHints, VIRTUALENVS, type PythonOptions } from '../../plugins/languages/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): T | void { return undefined; }

// Constants.
assertType<Equal<typeof PLUGIN_API_VERSION, 2>>();
assertType<Equal<typeof ANY_APP_TYPE, '*'>>();
assertType<Equal<PerAppTypeHookName, 'resolveLoader' | 'buildSpawnCommand' | 'enrichErrorReport'>>();
assertType<Equal<typeof PER_APP_TYPE_HOOKS, readonly ['resolveLoader', 'buildSpawnCommand', 'enrichErrorReport']>>();
assertType<Equal<typeof Stage.first, -100>>();

// Helpers.
assertType<Equal<ReturnType<typeof shellQuote>, string>>();
assertType<Equal<ReturnType<typeof editDistance>, number>>();
// For a protocol of a plugin (FastCGI): the CGI variables, and where the app's files are.
assertType<Equal<Parameters<typeof cgiVariables>, [FrontRequest, string]>>();
// A buffered body may take its chunks back; a protocol that ignores that still just reads a Readable.
assertType<Equal<NonNullable<FrontRequest['body']>['recycle'], RecyclableChunks['recycle'] | undefined>>();
assertType<Equal<ReturnType<typeof cgiVariables>, string[]>>();
assertType<Equal<Pick<ForwardTarget, 'appRoot' | 'startupFile'>, { appRoot: string; startupFile: string }>>();
assertType<Equal<AppTypeDescriptor['scriptExtensions'], string[] | undefined>>();
assertType<Equal<ReturnType<typeof chooseInterpreter>, Promise<InterpreterChoice>>>();
assertType<Equal<ReturnType<typeof choosePython>, Promise<{ python: string; reason: string }>>>();
assertType<Equal<ReturnType<ReturnType<typeof detectByStartupFile>>, Promise<AppTypeMatch | undefined>>>();
assertType<Equal<Parameters<typeof pythonHints>, [ErrorReport, ErrorContext, string]>>();
assertType<Equal<Parameters<typeof rubyHints>, Parameters<typeof nodeHints>>>();
assertType<Equal<PythonOptions, { python?: string }>>();
assertType<Equal<typeof VIRTUALENVS, readonly ['.venv', 'venv']>>();
const rule: InterpreterRule = { option: 'php', inApp: [{ path: 'bin/php', reason: 'bundled' }], fallback: 'php' };
const code: ErrorCode = 'PSG_ERR_PLUGIN_PEER_MISSING';
const meaning: string = codes[code];
const err = new PassengerError('PSG_ERR_PLUGIN', 'x');
if (isPassengerError(err)) assertType<Equal<typeof err.code, ErrorCode>>();

// The hooks keyed by app type are HookMaps of the documented hooks.
assertType<Equal<ReturnType<KernelHooks['resolveLoader']['for']>, ResolveLoaderHook>>();
assertType<Equal<ReturnType<KernelHooks['buildSpawnCommand']['for']>, BuildSpawnCommandHook>>();
assertType<Equal<ReturnType<KernelHooks['enrichErrorReport']['for']>, EnrichErrorReportHook>>();
assertType<Equal<Parameters<KernelHooks['registerOptions']['call']>, [OptionRegistry]>>();

// A plugin with typed options, as a third party writes it.
const typed: Plugin = definePlugin<PythonOptions & { asgi_app?: string }>({
  name: 'asgi',
  apiVersion: 2,
  apply(kernel) {
    kernel.hooks.registerOptions.tap('asgi', (r) => { r.add(pythonOption); r.use('threads'); });
    kernel.hooks.resolveLoader.for('asgi').tapPromise('asgi', async (app, method) => {
      assertType<Equal<typeof app.options.python, string | undefined>>();
      assertType<Equal<typeof app.options.asgi_app, string | undefined>>();
      assertType<Equal<typeof app.options.threads, number>>();
      assertType<Equal<typeof method, SpawnMethod>>();
      const readiness: Readiness = { kind: 'port', host: '127.0.0.1', port: 0, protocol: 'http_session', concurrency: 0 };
      const loader: LoaderSpec = { command: (await choosePython(app)).python, args: [], readiness, note: 'why' };
      return loader;
    });
    kernel.hooks.enrichErrorReport.for(ANY_APP_TYPE).tapPromise('asgi', (report, ctx) => pythonHints(report, ctx, 'asgi'));
    // @ts-expect-error the per-app-type hooks have no tap of their own: pick the type with for()
    kernel.hooks.resolveLoader.tap('asgi', () => undefined);
  },
});
// @ts-expect-error a plugin needs a name
definePlugin({ apply() {} });

// Every other public type stays exported.
export type PublicTypes = [
  AppSpec, AppTypeDescriptor, CoreOptions, DetectContext, ExitInfo, ForwardOutcome, ForwardTarget, FrontRequest, FrontResponse,
  GroupInfo, InstanceInfo, JourneyStep, Kernel, OptionDef, PluginDefinition, PluginKernel, ProcessInfo, ProcessSocket, Protocol,
  ProtocolName, RecyclableChunks, Registry<AppTypeDescriptor>, RejectionReason, ReportHint, ReportSection, RequestEvent, SpawnCommand, SpawnInfo,
];
export { typed, rule, meaning };
