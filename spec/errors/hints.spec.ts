// Each plugin's enricher on reports shaped like the ones its loader produces,
// for the cases the end-to-end specs do not start a real app for.
import { expect } from 'chai';
import type { AppSpec, ErrorContext, ErrorReport, ReportHint } from '../../core/index.ts';
import { nodeHints } from '../../plugins/node/node-hints.ts';
import { pythonHints } from '../../plugins/wsgi/python-hints.ts';
import { rubyHints } from '../../plugins/rack/ruby-hints.ts';
import { portHints } from '../../plugins/generic/port-hints.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';
import { Kernel } from '../../core/kernel.ts';
import { createLogger } from '../../core/log/logger.ts';
import { callEnrichErrorReport } from '../../core/hooks.ts';
import { builtinPlugins } from '../../plugins/index.ts';
import { sampleReport } from './sample-report.ts';

function context(report: ErrorReport, options: Record<string, unknown> = {}): ErrorContext {
  const app = {
    appRoot: report.appRoot, name: 'app', appType: report.appType, startupFile: `${report.appRoot}/app`, detectReason: 'spec',
    options: { environment: 'development', start_timeout: 90, ...options }, sources: {},
  } as unknown as AppSpec;
  return { app, output: report.output };
}

function onlyHint(report: ErrorReport): ReportHint {
  expect(report.hints, JSON.stringify(report.hints)).to.have.length(1);
  return report.hints[0]!;
}

afterEach(() => removeApps());

describe('node hints', () => {
  const node = (o: Partial<ErrorReport>, files: Record<string, string> = { 'app.js': '' }) => {
    const root = makeApp(files);
    const r = sampleReport({ appRoot: root, cwd: root, appType: 'node', detail: '', ...o });
    return nodeHints(r, context(r), 'passenger:node');
  };

  it('ERR_REQUIRE_ESM: use import() or make the requiring file an ES module', () => {
    const h = onlyHint(node({ errorClass: 'Error [ERR_REQUIRE_ESM]', summary: 'require() of ES Module /srv/app/node_modules/x/index.js not supported.' }));
    expect(h.title).to.equal('CommonJS code require()s an ES module');
    expect(h.body).to.include('`await import(...)`');
    expect(h.plugin).to.equal('passenger:node');
  });

  it('a named import from a CommonJS package: import the default export', () => {
    const h = onlyHint(node({ errorClass: 'SyntaxError', summary: "Named export 'Router' not found. The requested module 'express' is a CommonJS module, which may not support all module.exports as named exports." }));
    expect(h.title).to.equal('Import express as a default export');
  });

  it('EADDRINUSE: names the port and how to find who holds it', () => {
    const h = onlyHint(node({ errorClass: 'Error [EADDRINUSE]', summary: 'listen EADDRINUSE: address already in use :::3000' }));
    expect(h.title).to.equal('Port 3000 is already in use');
    expect(h.command).to.equal("ss -ltnp 'sport = :3000'");
  });

  it('import in a CommonJS file: npm pkg set type=module', () => {
    const r = node({ errorClass: 'SyntaxError', summary: 'Cannot use import statement outside a module' });
    expect(onlyHint(r).command).to.equal(`cd ${r.appRoot} && npm pkg set type=module`);
  });

  it('a package that is only a devDependency, with the lockfile package manager', () => {
    const r = node({ errorClass: 'Error [MODULE_NOT_FOUND]', summary: "Cannot find module 'express'" },
      { 'package.json': '{ "devDependencies": { "express": "^4" } }', 'package-lock.json': '{}' });
    const h = onlyHint(r);
    expect(h.title).to.equal('"express" is only a devDependency');
    expect(h.command).to.equal(`cd ${r.appRoot} && npm pkg delete devDependencies.express && npm install express`);
  });

  it('a package the app never declared: add it with the package manager of its lockfile', () => {
    const r = node({ errorClass: 'Error [ERR_MODULE_NOT_FOUND]', summary: "Cannot find package '@scope/left-pad' imported from /srv/app/app.js" },
      { 'package.json': '{}', 'yarn.lock': '' });
    const h = onlyHint(r);
    expect(h.title).to.equal('Add the package "@scope/left-pad"');
    expect(h.command).to.equal(`cd ${r.appRoot} && yarn add @scope/left-pad`);
  });

  it('an ES module import without the file extension', () => {
    const root = makeApp({ 'app.mjs': '', 'lib/util.js': '' });
    const r = sampleReport({ appRoot: root, appType: 'node', errorClass: 'Error [ERR_MODULE_NOT_FOUND]', summary: `Cannot find module '${root}/lib/util' imported from ${root}/app.mjs`, detail: '' });
    expect(onlyHint(nodeHints(r, context(r), 'passenger:node')).title).to.equal('Add the file extension: import "util.js"');
  });

  it('any other error: the first frame in the app, not in node_modules', () => {
    const r = node({ errorClass: 'TypeError', summary: 'x is not a function' });
    r.hints = [];
    r.detail = `TypeError: x is not a function\n    at f (${r.appRoot}/node_modules/lib/index.js:1:1)\n    at Object.<anonymous> (${r.appRoot}/src/server.js:12:5)`;
    expect(onlyHint(nodeHints(r, context(r), 'passenger:node')).title).to.equal('Look at src/server.js, line 12');
  });

  it('never sees reports of other app types (its tap is keyed by app type)', async () => {
    const kernel = new Kernel(createLogger('error'));
    for (const p of builtinPlugins()) kernel.use(p);
    kernel.boot();
    const eaddrinuse = { errorClass: 'Error [EADDRINUSE]', summary: 'listen EADDRINUSE: address already in use :::3000' };
    const rack = sampleReport({ appType: 'rack', ...eaddrinuse });
    expect((await callEnrichErrorReport(kernel.hooks, rack, context(rack))).hints.filter((h) => h.plugin === 'passenger:node')).to.deep.equal([]);
    const node = sampleReport({ appType: 'node', ...eaddrinuse });
    expect((await callEnrichErrorReport(kernel.hooks, node, context(node))).hints.map((h) => h.plugin)).to.deep.equal(['passenger:node']);
  });
});

describe('python hints', () => {
  const wsgi = (o: Partial<ErrorReport>, files: Record<string, string> = { 'passenger_wsgi.py': '' }, options: Record<string, unknown> = {}) => {
    const root = makeApp(files);
    const r = sampleReport({ appRoot: root, cwd: root, appType: 'wsgi', detail: '', properties: { interpreter: '/usr/bin/python3', python_version: '3.11.2' }, ...o });
    return pythonHints(r, context(r, options), 'passenger:wsgi');
  };

  it('a missing module with requirements.txt: install them with that interpreter, and suggest a virtualenv', () => {
    const r = wsgi({ errorClass: 'ModuleNotFoundError', summary: "No module named 'flask.json'" }, { 'passenger_wsgi.py': '', 'requirements.txt': 'flask\n' });
    expect(r.hints.map((h) => h.title)).to.deep.equal(['Install the Python module "flask" for the interpreter the app runs with', 'Give the app its own virtualenv']);
    expect(r.hints[0]!.command).to.equal(`cd ${r.appRoot} && /usr/bin/python3 -m pip install -r requirements.txt`);
    expect(r.hints[0]!.body).to.include('`/usr/bin/python3` (Python 3.11.2), chosen by default');
    expect(r.hints[1]!.command).to.equal(`cd ${r.appRoot} && python3 -m venv .venv && .venv/bin/python -m pip install -r requirements.txt`);
  });

  it('a missing module with the app virtualenv in use: no virtualenv advice', () => {
    const root = makeApp({ 'passenger_wsgi.py': '', '.venv/bin/python': '' });
    const r = sampleReport({ appRoot: root, appType: 'wsgi', errorClass: 'ModuleNotFoundError', summary: "No module named 'yaml'", detail: '',
      properties: { interpreter: `${root}/.venv/bin/python`, python_version: '3.12.1' } });
    const h = onlyHint(pythonHints(r, context(r), 'passenger:wsgi'));
    expect(h.command).to.equal(`cd ${root} && ${root}/.venv/bin/python -m pip install yaml`);
    expect(h.body).to.include('chosen by the virtualenv .venv/ in the app directory');
    expect(h.body).to.include('`yaml` is PyYAML');
  });

  it('a name a module lacks: check the installed version', () => {
    const h = onlyHint(wsgi({ errorClass: 'ImportError', summary: "cannot import name 'Markup' from 'flask' (/usr/lib/python3/dist-packages/flask/__init__.py)" }));
    expect(h.title).to.equal('"flask" has no "Markup": check the installed version');
    expect(h.command).to.equal('/usr/bin/python3 -m pip show flask');
  });

  it('no application callable: how to name it', () => {
    const h = onlyHint(wsgi({ errorClass: 'AttributeError', summary: '/srv/app/passenger_wsgi.py does not define `application`, the WSGI callable to serve' }));
    expect(h.title).to.equal('Name the WSGI callable `application`');
  });

  it('any other error: the innermost frame in the app', () => {
    const root = makeApp({ 'passenger_wsgi.py': '' });
    const r = sampleReport({ appRoot: root, appType: 'wsgi', errorClass: 'KeyError', summary: "'SECRET'", properties: {},
      detail: `Traceback (most recent call last):\n  File "${root}/passenger_wsgi.py", line 2, in <module>\n    import settings\n  File "${root}/settings.py", line 7, in <module>\n    KEY = os.environ['SECRET']\n  File "/usr/lib/python3.11/os.py", line 679, in __getitem__\nKeyError: 'SECRET'` });
    expect(onlyHint(pythonHints(r, context(r), 'passenger:wsgi')).title).to.equal('Look at settings.py, line 7');
  });
});

describe('ruby hints', () => {
  // A Ruby that cannot be asked: the hints still name the command the app ran with.
  const rack = async (o: Partial<ErrorReport>, files: Record<string, string> = { 'config.ru': '' }) => {
    const root = makeApp(files);
    const r = sampleReport({ appRoot: root, cwd: root, appType: 'rack', command: ['/nonexistent/ruby', 'rack-loader.rb'], detail: '', properties: {}, ...o });
    return rubyHints(r, context(r), 'passenger:rack');
  };

  it('a stale Gemfile.lock: the bundle command Bundler named, with that Ruby', async () => {
    const r = await rack({ errorClass: 'Bundler::ProductionError', summary: 'Your bundle only supports platforms [] but your local platform is x86_64-linux. Add the current platform to the lockfile with `bundle lock --add-platform x86_64-linux` and try again.' },
      { 'config.ru': '', Gemfile: '', 'Gemfile.lock': '' });
    const h = onlyHint(r);
    expect(h.title).to.equal('Bring Gemfile.lock up to date');
    expect(h.command).to.equal(`cd ${r.appRoot} && /nonexistent/ruby -S bundle lock --add-platform x86_64-linux`);
  });

  it('no Gemfile.lock in deployment mode: create it', async () => {
    const h = onlyHint(await rack({ errorClass: 'Bundler::ProductionError', summary: 'The --deployment flag requires a Gemfile.lock. Please make sure you have checked your Gemfile.lock into version control before deploying.' },
      { 'config.ru': '', Gemfile: '' }));
    expect(h.title).to.equal('Create Gemfile.lock (bundle install)');
  });

  it('a LoadError with a Gemfile: bundle add the gem', async () => {
    const r = await rack({ errorClass: 'LoadError', summary: 'cannot load such file -- sinatra/base' }, { 'config.ru': '', Gemfile: '' });
    expect(onlyHint(r).command).to.equal(`cd ${r.appRoot} && /nonexistent/ruby -S bundle add sinatra`);
  });

  it('a LoadError without a Gemfile: gem install with that Ruby', async () => {
    expect(onlyHint(await rack({ errorClass: 'LoadError', summary: 'cannot load such file -- nokogiri' })).command).to.equal('/nonexistent/ruby -S gem install nokogiri');
  });

  it('any other error: the first frame in the app, not in a gem', async () => {
    const root = makeApp({ 'config.ru': '' });
    const r = sampleReport({ appRoot: root, appType: 'rack', errorClass: 'NameError', summary: 'uninitialized constant Foo', properties: {},
      detail: `${root}/vendor/bundle/ruby/3.1.0/gems/x/lib/x.rb:1:in 'x': uninitialized constant Foo (NameError)\n\tfrom ${root}/app/boot.rb:9:in '<top (required)>'\n\tfrom ${root}/config.ru:1:in 'block in <main>'` });
    expect(onlyHint(await rubyHints(r, context(r), 'passenger:rack')).title).to.equal('Look at app/boot.rb, line 9');
  });
});

describe('generic app hints', () => {
  const generic = (o: Partial<ErrorReport>) => {
    const r = sampleReport({ appType: 'generic', errorClass: undefined, detail: '', properties: { port: '4567' }, output: ['booting'], ...o });
    return portHints(r, context(r, { app_start_command: './server', start_timeout: 5 }), 'passenger:generic');
  };

  it('a command that never listened: the port it was given, what it printed, and how to run it by hand', () => {
    const h = onlyHint(generic({ code: 'PSG_ERR_SPAWN_TIMEOUT', exit: undefined }));
    expect(h.title).to.equal('The command never listened on $PORT (4567)');
    expect(h.body).to.include('with PORT=4567 and waited 5 s');
    expect(h.body).to.include('It printed, last:\n  booting');
    expect(h.command).to.equal("cd /srv/app && PORT=4567 /bin/sh -c ./server");
  });

  it('exit code 0: not a foreground server', () => {
    expect(onlyHint(generic({ exit: { code: 0, signal: null } })).title).to.equal('The command finished before listening on $PORT');
  });

  it('exit code 126: not executable', () => {
    expect(onlyHint(generic({ exit: { code: 126, signal: null } })).title).to.equal('The command is not executable (exit code 126)');
  });

  it('SIGKILL: probably out of memory, with the free memory', () => {
    const h = onlyHint(generic({ exit: { code: null, signal: 'SIGKILL' } }));
    expect(h.title).to.equal('The command was killed by SIGKILL before listening on $PORT');
    expect(h.body).to.include('out-of-memory killer (free memory now: 2048 MiB of 8192 MiB');
  });
});
