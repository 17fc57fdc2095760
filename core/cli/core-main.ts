// Entry of the core process (started by the watchdog, never by users).
import { runCore, type CoreInit } from '../instance/core-process.ts';
import { builtinPlugins } from '../../plugins/index.ts';
import { dropCoreOnlyEnvironment } from '../watchdog/core-env.ts';

dropCoreOnlyEnvironment(process.env);

const init = JSON.parse(process.argv[2] ?? '{}') as CoreInit;
await runCore(builtinPlugins(), init);
