// The command line: parsing on node:util's parseArgs with open-ended option
// flags, each command's own --help, and errors that name the flag at fault.
import { expect } from 'chai';
import { parseArgs } from '../../core/cli/args.ts';
import { COMMANDS } from '../../core/cli/usage.ts';
import { PassengerError } from '../../core/errors/passenger-error.ts';
import { fixtureApp, passengerCommand } from '../support/passenger.ts';

const BOOLEANS = new Set(['help', 'json', 'debug', 'version', 'friendly_error_pages']);

function usageError(argv: string[]): string {
  try { parseArgs(argv, BOOLEANS); } catch (e) { if (e instanceof PassengerError && e.code === 'PSG_ERR_USAGE') return e.message; throw e; }
  throw new Error(`parsed: ${argv.join(' ')}`);
}

describe('passenger command line', function () {
  this.timeout(60000);

  describe('parsing', () => {
    it('takes --name value, --name=value, --no-name for booleans, -p and -a, and positionals anywhere', () => {
      expect(parseArgs(['run', '--max-pool-size', '4', 'app', '--environment=production', '--no-friendly-error-pages', '-p', '80', '-a', '::1', '--json'], BOOLEANS)).to.deep.equal({
        command: 'run', positionals: ['app'],
        flags: { max_pool_size: '4', environment: 'production', friendly_error_pages: false, port: '80', address: '::1', json: true },
      });
    });

    it('takes true or false right after a boolean flag as its value, not as a positional', () => {
      expect(parseArgs(['run', '--friendly-error-pages', 'false', 'app'], BOOLEANS)).to.deep.equal({ command: 'run', positionals: ['app'], flags: { friendly_error_pages: false } });
      expect(parseArgs(['run', 'app', '--json', 'true'], BOOLEANS)).to.deep.equal({ command: 'run', positionals: ['app'], flags: { json: true } });
      // Anything else after it is a positional, as before.
      expect(parseArgs(['run', '--json', 'app'], BOOLEANS)).to.deep.equal({ command: 'run', positionals: ['app'], flags: { json: true } });
    });

    it('gives a flag it does not know yet (a plugin option) the value that follows it', () => {
      expect(parseArgs(['run', '--plugin-knob', 'on', 'dir'], BOOLEANS)).to.deep.equal({ command: 'run', positionals: ['dir'], flags: { plugin_knob: 'on' } });
    });

    it('treats everything after -- as positionals', () => {
      expect(parseArgs(['run', '--', '--odd-dir'], BOOLEANS).positionals).to.deep.equal(['--odd-dir']);
    });

    it('refuses a flag without its value, and unknown short switches', () => {
      expect(usageError(['run', '--max-pool-size'])).to.equal('--max-pool-size needs a value');
      expect(usageError(['run', '--max-pool-size', '--json'])).to.equal('--max-pool-size needs a value');
      expect(usageError(['run', '--port', '--json'])).to.equal('--port needs a value');
      expect(usageError(['run', '-x'])).to.equal('unknown switch -x');
    });
  });

  describe('help', () => {
    it('passenger --help lists every command', async () => {
      const r = await passengerCommand(['--help']);
      expect(r.code).to.equal(0);
      for (const c of COMMANDS) expect(r.stdout).to.include(`passenger ${c.name} ${c.synopsis}`);
    });

    it('each command has its own help, not the global one', async () => {
      const global = (await passengerCommand(['--help'])).stdout;
      for (const c of ['run', 'status', 'systemd-unit']) {
        const r = await passengerCommand([c, '--help']);
        expect(r.code, c).to.equal(0);
        expect(r.stdout, c).to.match(new RegExp(`^Usage: passenger ${c} `));
        expect(r.stdout, c).to.not.equal(global);
      }
      const run = (await passengerCommand(['run', '--help'])).stdout;
      expect(run).to.include('--max-pool-size').and.include('--scgi-socket');
      const status = (await passengerCommand(['status', '-h'])).stdout;
      expect(status).to.include('--instance NAME').and.not.include('--max-pool-size');
    });

    it('an unknown command says so and exits 2', async () => {
      const r = await passengerCommand(['serve']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('unknown command "serve"');
    });
  });

  describe('errors name the flag', () => {
    it('a misspelt option gets the nearest one suggested', async () => {
      const r = await passengerCommand(['detect', fixtureApp('node-basic'), '--max-pool-sise', '3']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('flag --max-pool-sise').and.include('did you mean "max_pool_size"');
    });

    it('a flag an instance command does not take is named with what it takes', async () => {
      const r = await passengerCommand(['stop', '--port', '3']);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.include('passenger stop does not take --port');
    });
  });
});
