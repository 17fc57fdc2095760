// Meteor apps. Unbundled (a project with .meteor/): run in development by
// `meteor run --port PORT`, ready when the port accepts connections, like a
// generic app. Bundled (`meteor build` output: main.js and programs/server/):
// a Node app for the Node loader, configured through ROOT_URL, MONGO_URL and
// METEOR_SETTINGS. Neither has a preloader.
import { definePlugin, portLoader, PORT_TOKEN, type Plugin } from '../../core/index.ts';
import { detectMeteor, isUnbundled, METEOR } from './detect.ts';
import { meteorEnv, settingsPath } from './environment.ts';

const NAME = 'passenger:meteor';

export default function meteor(): Plugin {
  return definePlugin({
    name: NAME,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (r) => r.add({
        name: METEOR, processesPerCpu: 1, processMemoryMiB: 250, displayName: 'Meteor', startupFiles: ['.meteor', 'main.js'], protocol: 'http_session',
        lookedFor: '.meteor/release (a project), or main.js next to programs/server/ (a bundle)',
      }));
      kernel.hooks.registerOptions.tap(NAME, (r) => {
        r.add({ name: 'meteor', type: 'string', default: 'meteor', scope: 'app', doc: 'the meteor command that runs unbundled Meteor apps' });
        r.add({ name: 'root_url', type: 'string', scope: 'app', doc: "a Meteor app's ROOT_URL (default for bundled apps: http://localhost:<port>)" });
        r.add({ name: 'mongo_url', type: 'string', scope: 'app', doc: "a Meteor app's MONGO_URL (unbundled apps default to meteor's own MongoDB)" });
        r.add({ name: 'meteor_app_settings', type: 'string', scope: 'app', doc: "a JSON settings file for a Meteor app (METEOR_SETTINGS / meteor run --settings), relative to the app" });
      });
      kernel.hooks.detectAppType.tapPromise(NAME, detectMeteor);
      kernel.hooks.resolveLoader.for(METEOR).tapPromise(NAME, async (app) => {
        if (isUnbundled(app.startupFile)) {
          const settings = settingsPath(app);
          return portLoader({
            command: String(app.options.meteor),
            args: ['run', '--port', PORT_TOKEN, ...(settings ? ['--settings', settings] : []),
              ...(app.options.environment === 'production' ? ['--production'] : [])],
            env: await meteorEnv(app, { withSettings: false }),
          });
        }
        // The Node loader makes the bundle's listen() use our socket; PORT is a harmless fallback.
        const port = await kernel.freePort();
        const env = await meteorEnv(app, { withSettings: true, defaultRootUrl: `http://localhost:${String(app.options.port ?? port)}` });
        return {
          command: String(app.options.nodejs ?? process.execPath),
          args: [kernel.helperScript('node-loader.cjs')],
          env: { ...env, PORT: String(port) },
          readiness: { kind: 'handshake' },
        };
      });
      kernel.hooks.buildSpawnCommand.for(METEOR).tap(NAME, (cmd, app) => {
        cmd.env.NODE_ENV = app.options.envvars.NODE_ENV ?? app.options.environment;
        return cmd;
      });
    },
  });
}
