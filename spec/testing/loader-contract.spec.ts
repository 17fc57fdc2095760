// The loader contract suite of passenger-ts/testing, run against the built-in
// loaders: what it asks of a third-party loader, ours do too.
import { join } from 'node:path';
import { describeLoaderContract, helperScript } from '../../testing/index.ts';
import { fixtureApp } from '../support/passenger.ts';

const app = (name: string, file: string, path?: string) => ({ root: fixtureApp(name), startupFile: join(fixtureApp(name), file), ...(path ? { path } : {}) });

describeLoaderContract({
  name: 'helper-scripts/rack-loader.rb', command: 'ruby', args: [helperScript('rack-loader.rb')], protocol: 'session',
  app: app('rack-basic', 'config.ru', '/env'), brokenApp: app('rack-broken', 'raise.ru'), handshake: { app_type: 'rack' },
});

describeLoaderContract({
  name: 'helper-scripts/wsgi-loader.py', command: '/usr/bin/python3', args: [helperScript('wsgi-loader.py')], protocol: 'session',
  env: { ...process.env, PRELOAD_SLEEP: '0' },
  app: app('wsgi-preload', 'passenger_wsgi.py'), brokenApp: app('wsgi-syntax-error', 'passenger_wsgi.py'), handshake: { app_type: 'wsgi' },
});

describeLoaderContract({
  name: 'helper-scripts/node-loader.cjs', command: process.execPath, args: [helperScript('node-loader.cjs')], protocol: 'http_session',
  app: app('node-basic', 'app.js'), brokenApp: app('node-throws', 'app.js'), handshake: { app_type: 'node' },
});
