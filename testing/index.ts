// passenger-ts/testing: what a plugin author needs to test a plugin the way
// the built-in ones are tested (docs/plugins.md, "Testing a plugin"): the real
// server on a fixture app, the loader driven by hand, the loader contract
// suite, and a check that nothing started is left behind. Linux (/proc).
export { startServer, runPassenger, pluginEntryFile, type StartServerOptions, type TestServer, type StopResult, type CommandResult, type OptionValue } from './server.ts';
export {
  startLoader, parseResponse, parseSocketLine, LoaderFailedError,
  type LoaderCommand, type StartLoaderOptions, type RunningLoader, type SocketLine, type RawResponse, type RequestSpec, type LoaderFailureReport, type ProtocolClient,
} from './loader.ts';
export { describeLoaderContract, type LoaderUnderTest, type ContractApp, type TestFramework } from './loader-contract.ts';
export { helperScript } from './package-root.ts';
export { LeftoverProcessesError, type ProcessInfo } from './processes.ts';
