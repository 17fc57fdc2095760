// HEAD requests to a Rack app: the loader sends the head and closes the body
// without reading it, as Passenger and Puma do. An app wrapped in Rack::Lint
// (without Rack::Head) whose body is not empty must still answer 200: Lint
// fails a HEAD request only when the server reads a non-empty body.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { request } from './app-helpers.ts';
import { waitFor } from '../core/admin/instance-helpers.ts';

describe('Rack HEAD requests', function () {
  this.timeout(60000);
  let p: RunningPassenger | undefined;
  let app = '';
  before(async () => {
    app = makeApp({
      'config.ru': [
        "require 'uri' # Rack 2.2's Lint uses URI without loading it",
        '# Counts each close in a file, to check the body is still closed on HEAD.',
        'class Body',
        '  def each; yield "hello"; end',
        "  def close; File.open(File.join(__dir__, 'closes'), 'a') { |f| f.write('x') }; end",
        'end',
        'use Rack::Lint',
        "run lambda { |env| [200, { 'Content-Type' => 'text/plain', 'Content-Length' => '5' }, Body.new] }",
        '',
      ].join('\n'),
    });
    p = await startPassenger(app, { args: ['--max-instances', '1'] });
  });
  after(async () => { await stopAndClean(p); p = undefined; removeApps(); });

  it('answers HEAD with 200 and the head of the GET, without reading the body', async () => {
    const get = await request(`${p!.url}/`);
    expect([get.status, get.text]).to.deep.equal([200, 'hello']);
    const head = await request(`${p!.url}/`, { method: 'HEAD' });
    expect(head.status, p!.output()).to.equal(200);
    expect(head.headers['content-length']).to.equal('5');
    expect(head.text).to.equal('');
    expect(p!.output()).to.not.match(/Response body was given for HEAD request/);
  });

  it('still closes the body of a HEAD response', async () => {
    const closes = () => { try { return readFileSync(join(app, 'closes'), 'utf8').length; } catch { return 0; } };
    const before = closes();
    expect((await request(`${p!.url}/`, { method: 'HEAD' })).status).to.equal(200);
    await waitFor(() => closes() === before + 1, 5000, 'the body to be closed');
  });
});
