// @ts-check
// __PACKAGE__: serves __DISPLAY__ apps with passenger-ts. The app is a program
// that listens on $PORT: passenger-ts picks a free port at each spawn, starts
// the command with PORT set, waits until the port accepts connections, and
// kills the command (and all it forks) with the server. See passenger-ts's
// docs/plugins.md for every hook and helper used here.
import { chooseInterpreter, definePlugin, detectByStartupFile, portLoader, shellQuote } from 'passenger-ts';

const NAME = '__NAME__';
/** The app type: a directory with one of `startupFiles` is a __DISPLAY__ app. */
const TYPE = { name: '__NAME__', displayName: '__DISPLAY__', startupFiles: ['__STARTUP_FILE__'] };
const INTERPRETER_OPTION = '__OPTION__';

/**
 * The options this plugin registers, as `app.options` sees them in its hooks.
 * @typedef {{ __OPTION__?: string }} Options
 */

/**
 * The factory: passenger-ts calls it with the options of the `plugins` entry
 * (`["__NAME__", { ... }]` in the app's configuration).
 * @param {Record<string, unknown>} [_options]
 */
export default function plugin(_options = {}) {
  /** @type {import('passenger-ts').PluginDefinition<Options>} */
  const definition = {
    name: NAME,
    // The plugin API this plugin is written for: a server with another one refuses it by name.
    apiVersion: __API_VERSION__,
    apply(kernel) {
      kernel.hooks.registerAppTypes.tap(NAME, (types) => types.add({ ...TYPE, protocol: 'http_session', interpreterOption: INTERPRETER_OPTION }));
      kernel.hooks.registerOptions.tap(NAME, (options) => options.add({
        name: INTERPRETER_OPTION, type: 'string', scope: 'app', doc: 'the program that runs __DISPLAY__ apps (default: node)',
      }));
      // Honours app_type and startup_file; pass { check } to look inside the file (docs/plugins.md, Helpers).
      kernel.hooks.detectAppType.tapPromise(NAME, detectByStartupFile(TYPE));
      kernel.hooks.resolveLoader.for(TYPE.name).tapPromise(NAME, async (app) => {
        // Nothing is started here, and no port picked: `passenger detect` calls this too.
        const { command, reason } = await chooseInterpreter(app, { option: INTERPRETER_OPTION, fallback: 'node' });
        return portLoader({ command, args: [app.startupFile], note: reason });
      });
      kernel.hooks.enrichErrorReport.for(TYPE.name).tap(NAME, (report) => {
        report.hints.push({
          title: 'Run the app by hand',
          body: 'It must listen on the port in $PORT, on 127.0.0.1, and stay in the foreground.',
          command: `cd ${shellQuote(report.appRoot)} && PORT=8080 ${report.command.map(shellQuote).join(' ')}`,
          plugin: NAME,
        });
        return report;
      });
    },
  };
  return definePlugin(definition);
}
