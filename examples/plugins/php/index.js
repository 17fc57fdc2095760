// @ts-check
// passenger-plugin-php: serves PHP apps (index.php, or a public/index.php
// front controller as Laravel and Symfony have it) through php-fpm, or php-cgi
// when php-fpm is missing, over its own FastCGI protocol.
import { definePlugin, detectByStartupFile } from 'passenger-ts';
import { fastcgiProtocol } from './lib/fastcgi-protocol.js';

const NAME = 'php';
// public/index.php first: in a Laravel or Symfony app the root's files are not for the web.
const TYPE = { name: 'php', displayName: 'PHP (FastCGI)', startupFiles: ['public/index.php', 'index.php'] };

/**
 * @typedef {{ php_sapi: 'auto' | 'fpm' | 'cgi', php_fpm: string }} PhpOptions
 */

export default function php() {
  return definePlugin(/** @type {import('passenger-ts').PluginDefinition<PhpOptions>} */ ({
    name: NAME,
    apiVersion: 2,
    apply(kernel) {
      kernel.hooks.registerProtocols.tap(NAME, (protocols) => protocols.add(fastcgiProtocol));
      kernel.hooks.registerAppTypes.tap(NAME, (types) => types.add({
        ...TYPE, protocol: fastcgiProtocol.name,
        // `threads` is the number of PHP workers of one process (a php-fpm master with pm = static).
        supportsThreads: true,
        // public/index.php is run, never sent as a static file.
        scriptExtensions: ['.php'],
      }));
      kernel.hooks.registerOptions.tap(NAME, (options) => {
        options.add({ name: 'php_sapi', type: 'string', default: 'auto', values: ['auto', 'fpm', 'cgi'], scope: 'app', doc: 'how PHP runs: php-fpm, php-cgi, or auto (php-fpm when installed, else php-cgi)' });
        options.add({ name: 'php_fpm', type: 'string', default: '', scope: 'app', doc: 'the php-fpm program (empty: php-fpm8.2 or php-fpm on PATH or in /usr/sbin)' });
      });
      kernel.hooks.detectAppType.tapPromise(NAME, detectByStartupFile(TYPE));
      kernel.hooks.resolveLoader.for(TYPE.name).tap(NAME, () => ({
        // The loader is a small Node program; the core's own Node runs it.
        command: process.execPath,
        args: [new URL('./php-loader.js', import.meta.url).pathname],
        readiness: { kind: 'handshake' },
        note: 'php-fpm (or php-cgi) on a private FastCGI socket',
      }));
      kernel.hooks.buildSpawnCommand.for(TYPE.name).tap(NAME, (cmd, app) => {
        cmd.handshake.php_sapi = String(app.options.php_sapi);
        cmd.handshake.php_fpm = String(app.options.php_fpm);
        return cmd;
      });
      kernel.hooks.enrichErrorReport.for(TYPE.name).tapPromise(NAME, async (report) => {
        const { phpHints } = await import('./lib/php-hints.js');
        return phpHints(report);
      });
    },
  }));
}
