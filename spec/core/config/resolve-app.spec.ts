// Configuration files, precedence and validation errors.
import { expect } from 'chai';
import { chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { resolveAppSpec } from '../../../core/config/resolve-app.ts';
import { flagLayer } from '../../../core/instance/boot.ts';
import { PassengerError } from '../../../core/errors/passenger-error.ts';
import { bootedKernel } from '../../support/kernel.ts';
import { makeApp, removeApps } from '../../support/tmp-app.ts';

const kernel = bootedKernel();
const APP = { 'app.js': '' };

async function resolve(dir: string, env: NodeJS.ProcessEnv = {}, flags: Record<string, string | boolean> = {}) {
  return resolveAppSpec(kernel, { appRoot: dir, env, layers: [flagLayer(flags)] });
}

async function failure(p: Promise<unknown>): Promise<PassengerError> {
  try { await p; } catch (e) { if (e instanceof PassengerError) return e; throw e; }
  throw new Error('expected a PassengerError');
}

describe('configuration', () => {
  afterEach(removeApps);

  describe('file formats, found in the app directory', () => {
    const formats: [string, string][] = [
      ['Passengerfile.json', '{ "max_instances": 3 }'],
      ['.passengerrc', 'max_instances: 3\n'],
      ['.passengerrc.json', '{ "max_instances": 3 }'],
      ['.passengerrc.yaml', 'max_instances: 3\n'],
      ['.passengerrc.yml', 'max_instances: 3\n'],
      ['.passengerrc.js', 'export default { max_instances: 3 };\n'],
      ['.passengerrc.cjs', 'module.exports = { max_instances: 3 };\n'],
      ['.passengerrc.mjs', 'export default { max_instances: 3 };\n'],
      ['passenger.config.js', 'export default { max_instances: 3 };\n'],
      ['passenger.config.cjs', 'module.exports = { max_instances: 3 };\n'],
      ['passenger.config.mjs', 'export default async () => ({ max_instances: 3 });\n'],
    ];
    for (const [file, content] of formats) {
      it(`reads ${file}`, async () => {
        const spec = await resolve(makeApp({ ...APP, [file]: content, 'package.json': '{"type":"module"}' }));
        expect(spec.options.max_instances).to.equal(3);
        expect(spec.sources.max_instances).to.match(new RegExp(`${file.replaceAll('.', '\\.')}$`));
        expect(spec.configFile).to.match(new RegExp(`${file.replaceAll('.', '\\.')}$`));
      });
    }

    it('evaluates a JS config as its owner, never with more privilege', async () => {
      const dir = makeApp({ ...APP, 'package.json': '{"type":"module"}', 'passenger.config.js': 'export default { envvars: { EVALUATED_AS: String(process.getuid()) } };\n' });
      const asRoot = process.getuid?.() === 0;
      if (asRoot) {
        // Root reading another user's config: it runs in a child as that user.
        chmodSync(dir, 0o755);
        chownSync(join(dir, 'passenger.config.js'), 65534, 65534);
      }
      const spec = await resolve(dir);
      expect(spec.options.envvars).to.deep.equal({ EVALUATED_AS: asRoot ? '65534' : String(process.getuid?.()) });
    });

    it('prefers Passengerfile.json when several files exist', async () => {
      const spec = await resolve(makeApp({ ...APP, 'Passengerfile.json': '{"max_instances": 2}', '.passengerrc': 'max_instances: 5' }));
      expect(spec.options.max_instances).to.equal(2);
    });
  });

  describe('precedence: defaults < file < PASSENGER_* env < flags', () => {
    it('uses the default with nothing set', async () => {
      const spec = await resolve(makeApp(APP));
      expect(spec.options.max_requests).to.equal(0);
      expect(spec.sources.max_requests).to.equal('default');
      expect(spec.options.environment).to.equal('development');
    });

    it('lets each layer override the one below', async () => {
      const dir = makeApp({ ...APP, '.passengerrc.json': '{"max_requests": 10, "min_instances": 2, "start_timeout": 5}' });
      const spec = await resolve(dir, { PASSENGER_MAX_REQUESTS: '20', PASSENGER_MIN_INSTANCES: '3' }, { max_requests: '30' });
      expect(spec.options.start_timeout).to.equal(5);
      expect(spec.sources.start_timeout).to.match(/\.passengerrc\.json$/);
      expect(spec.options.min_instances).to.equal(3);
      expect(spec.sources.min_instances).to.equal('env PASSENGER_MIN_INSTANCES');
      expect(spec.options.max_requests).to.equal(30);
      expect(spec.sources.max_requests).to.equal('flag --max-requests');
    });

    it('parses text values from the environment and flags into their types', async () => {
      const spec = await resolve(makeApp(APP), { PASSENGER_FRIENDLY_ERROR_PAGES: 'off', PASSENGER_ENVVARS: '{"A":"1"}' }, { start_timeout: '2.5' });
      expect(spec.options.friendly_error_pages).to.equal(false);
      expect(spec.options.envvars).to.deep.equal({ A: '1' });
      expect(spec.options.start_timeout).to.equal(2.5);
    });

    it('leaves PASSENGER_* variables that name no option alone', async () => {
      const spec = await resolve(makeApp(APP), { PASSENGER_SOMETHING_ELSE: 'x' });
      expect(spec.appType).to.equal('node');
    });
  });

  describe('validation errors name the file, the key and what was expected', () => {
    const cases: { what: string; files: Record<string, string>; env?: NodeJS.ProcessEnv; flags?: Record<string, string>; code: string; message: RegExp }[] = [
      { what: 'an unknown key, with the nearest known one', files: { '.passengerrc.json': '{"max_pool_sise": 4}' }, code: 'PSG_ERR_CONFIG_UNKNOWN_KEY', message: /\.passengerrc\.json: "max_pool_sise" is not a known option \(did you mean "max_pool_size"\?\)/ },
      { what: 'an unknown key with nothing near it', files: { 'Passengerfile.json': '{"frobnicate": true}' }, code: 'PSG_ERR_CONFIG_UNKNOWN_KEY', message: /Passengerfile\.json: "frobnicate" is not a known option$/ },
      { what: 'a string where an integer belongs', files: { '.passengerrc': 'max_pool_size: four' }, code: 'PSG_ERR_CONFIG_TYPE', message: /\.passengerrc: max_pool_size must be an integer >= 1, got "four" \(string\)/ },
      { what: 'a number below the minimum', files: { '.passengerrc.json': '{"min_instances": -1}' }, code: 'PSG_ERR_CONFIG_TYPE', message: /min_instances must be an integer >= 0, got -1 \(number\)/ },
      { what: 'a value outside an enumeration', files: { '.passengerrc.json': '{"spawn_method": "clever"}' }, code: 'PSG_ERR_CONFIG_TYPE', message: /spawn_method must be one of "smart", "direct", got "clever"/ },
      { what: 'a non-boolean boolean', files: { '.passengerrc.json': '{"friendly_error_pages": "yes please"}' }, code: 'PSG_ERR_CONFIG_TYPE', message: /friendly_error_pages must be true or false/ },
      { what: 'an object of non-strings', files: { '.passengerrc.json': '{"envvars": {"A": [1]}}' }, code: 'PSG_ERR_CONFIG_TYPE', message: /envvars must be an object of string values/ },
      { what: 'a bad environment variable', files: {}, env: { PASSENGER_MAX_REQUESTS: 'many' }, code: 'PSG_ERR_CONFIG_TYPE', message: /^env PASSENGER_MAX_REQUESTS: max_requests must be an integer >= 0, got "many"/ },
      { what: 'a bad flag', files: {}, flags: { start_timeout: 'soon' }, code: 'PSG_ERR_CONFIG_TYPE', message: /^flag --start-timeout: start_timeout must be a number >= 0\.1 \(seconds\), got "soon"/ },
      { what: 'a file that is not valid JSON', files: { '.passengerrc.json': '{"max_pool_size": 4,,}' }, code: 'PSG_ERR_CONFIG_PARSE', message: /\.passengerrc\.json/ },
      { what: 'a file that is not an object', files: { '.passengerrc.json': '[1, 2]' }, code: 'PSG_ERR_CONFIG_PARSE', message: /\.passengerrc\.json: the configuration must be an object of options, got an array/ },
    ];
    for (const c of cases) {
      it(`rejects ${c.what}`, async () => {
        const e = await failure(resolve(makeApp({ ...APP, ...c.files }), c.env ?? {}, c.flags ?? {}));
        expect(e.code).to.equal(c.code);
        expect(e.message).to.match(c.message);
      });
    }
  });

  describe('app type detection', () => {
    const table: { files: Record<string, string>; type: string; startup: string; reason: RegExp }[] = [
      { files: { 'app.js': '' }, type: 'node', startup: 'app.js', reason: /found app\.js/ },
      { files: { 'package.json': '{"main":"srv/main.js"}', 'srv/main.js': '' }, type: 'node', startup: 'srv/main.js', reason: /package\.json "main"/ },
      { files: { 'config.ru': '' }, type: 'rack', startup: 'config.ru', reason: /found config\.ru/ },
      { files: { 'passenger_wsgi.py': '' }, type: 'wsgi', startup: 'passenger_wsgi.py', reason: /found passenger_wsgi\.py/ },
      { files: { 'app.js': '', 'Passengerfile.json': '{"app_start_command": "./run --port $PORT"}' }, type: 'generic', startup: '', reason: /app_start_command is set/ },
      { files: { 'config.ru': '', 'app.js': '', '.passengerrc.json': '{"app_type": "node"}' }, type: 'node', startup: 'app.js', reason: /found app\.js/ },
      { files: { '.passengerrc.json': '{"startup_file": "server.mjs"}', 'server.mjs': '' }, type: 'node', startup: 'server.mjs', reason: /startup_file is server\.mjs/ },
      { files: { '.passengerrc.json': '{"startup_file": "wsgi.py"}', 'wsgi.py': '' }, type: 'wsgi', startup: 'wsgi.py', reason: /startup_file/ },
    ];
    for (const t of table) {
      it(`detects ${t.type} from ${Object.keys(t.files).join(' + ')}`, async () => {
        const dir = makeApp(t.files);
        const spec = await resolve(dir);
        expect(spec.appType).to.equal(t.type);
        expect(spec.startupFile).to.equal(t.startup ? `${spec.appRoot}/${t.startup}` : spec.appRoot);
        expect(spec.detectReason).to.match(t.reason);
      });
    }

    it('fails with PSG_ERR_DETECT_NO_MATCH listing what it looked for', async () => {
      const e = await failure(resolve(makeApp({ 'README.md': '' })));
      expect(e.code).to.equal('PSG_ERR_DETECT_NO_MATCH');
      expect(e.message).to.match(/config\.ru \(Ruby \(Rack\)\).*passenger_wsgi\.py, a Django project \(manage\.py\), or app\.py\/wsgi\.py creating Flask\( \(Python \(WSGI\)\).*passenger_asgi\.py, asgi\.py .* \(Python \(ASGI\)\).*app\.js \(Node\.js\)/);
    });

    it('fails with PSG_ERR_DETECT_NO_DIR for a missing directory', async () => {
      const e = await failure(resolve('/nonexistent/dir/for/spec'));
      expect(e.code).to.equal('PSG_ERR_DETECT_NO_DIR');
    });
  });
});
