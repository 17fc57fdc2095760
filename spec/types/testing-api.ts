// Type tests of passenger-ts/testing (docs/plugins.md, "Testing a plugin"):
// this file must typecheck, and each @ts-expect-error must stay an error. Never run.
import {
  describeLoaderContract, helperScript, LeftoverProcessesError, LoaderFailedError, parseResponse, parseSocketLine, pluginEntryFile,
  runPassenger, startLoader, startServer,
  type CommandResult, type LoaderUnderTest, type RawResponse, type RunningLoader, type SocketLine, type StopResult, type TestFramework, type TestServer,
} from '../../testing/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function assertType<T extends true>(): T | void { return undefined; }

assertType<Equal<ReturnType<typeof startServer>, Promise<TestServer>>>();
assertType<Equal<ReturnType<typeof runPassenger>, Promise<CommandResult>>>();
assertType<Equal<ReturnType<typeof startLoader>, Promise<RunningLoader>>>();
assertType<Equal<ReturnType<TestServer['stop']>, Promise<StopResult>>>();
assertType<Equal<ReturnType<TestServer['fetch']>, Promise<Response>>>();
assertType<Equal<ReturnType<RunningLoader['request']>, Promise<RawResponse>>>();
assertType<Equal<ReturnType<typeof parseSocketLine>, SocketLine>>();
assertType<Equal<ReturnType<typeof parseResponse>, RawResponse>>();
assertType<Equal<ReturnType<typeof helperScript>, string>>();
assertType<Equal<ReturnType<typeof pluginEntryFile>, string>>();
assertType<Equal<LeftoverProcessesError['processes'], { pid: number; command: string }[]>>();
assertType<Equal<LoaderFailedError['failure']['exited'], boolean>>();

const loader: LoaderUnderTest = {
  name: 'x', command: 'node', args: ['x.mjs'], protocol: 'http_session', app: { root: '/a', startupFile: '/a/x' },
};
// A protocol of a plugin's own comes with its client.
const other: LoaderUnderTest = { ...loader, protocol: 'fastcgi', client: async (socket, req) => parseResponse(Buffer.from(`${socket.address} ${req.method} ${req.path}`)) };
// @ts-expect-error: a client resolves with a RawResponse
const wrong: LoaderUnderTest = { ...loader, client: async () => 'HTTP/1.1 200 OK' };
void wrong;
const framework: TestFramework = { describe: (_t: string, body: () => void) => body(), it: (_t: string, _body: () => Promise<void>) => undefined };
describeLoaderContract(loader, framework);
void startServer('/app', { plugins: ['/plugin'], options: { max_pool_size: 2, friendly_error_pages: true, envvars: ['A=1'] } });
// @ts-expect-error: option values are strings, numbers, booleans or string lists
void startServer('/app', { options: { max_pool_size: { n: 2 } } });
void other;
