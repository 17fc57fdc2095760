// Every fault, in the order the table lists them.
import type { Fault } from '../harness.ts';
import { killApp } from './kill-app.ts';
import { killCore } from './kill-core.ts';
import { killWatchdog } from './kill-watchdog.ts';
import { killCoreAndWatchdog } from './kill-core-and-watchdog.ts';
import { rollingRestart } from './rolling-restart.ts';
import { slowHeaders } from './slow-headers.ts';
import { slowBodies } from './slow-bodies.ts';
import { slowReaders } from './slow-readers.ts';
import { idleConnectionsFault } from './idle-connections.ts';
import { malformed } from './malformed.ts';
import { upload1g } from './upload.ts';

export const faults: Fault[] = [killApp, killCore, killWatchdog, killCoreAndWatchdog, rollingRestart, slowHeaders, slowBodies, slowReaders, idleConnectionsFault, malformed, upload1g];
