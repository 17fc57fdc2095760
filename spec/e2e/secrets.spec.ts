// Secrets never reach a page, a log or the admin API. Real failing apps get a
// dozen kinds of secrets (through `envvars` and through the server's own
// environment) and print them, raise with them in the message and put them in
// their start command; no secret may then appear in the HTML page, the JSON
// report, the terminal output of `passenger run` (the log), `passenger status`
// or the admin API, while the masked form still says the variable exists.
import { expect } from 'chai';
import type { ErrorReport } from '../../core/errors/report.ts';
import { adminRequest } from '../../core/admin/client.ts';
import { findInstance, passwordOf } from '../../core/cli/commands/instance-flags.ts';
import { passengerCommand, startPassenger, stopAndClean, type RunningPassenger } from '../support/passenger.ts';
import { makeApp, removeApps } from '../support/tmp-app.ts';

const PEM_BODY = [
  'MIIEowIBAAKCAQEAt3sTpEMb0dyL1neOneSecretKeyMaterialLineAbCdEfGh1',
  'Zx9SecondPemLineOfFakeKeyMaterialThatMustNeverBeShown0123456789a',
];
const PEM = `-----BEGIN RSA PRIVATE KEY-----\n${PEM_BODY.join('\n')}\n-----END RSA PRIVATE KEY-----`;

/** Given to passenger run in its own environment: the app inherits them. */
const serverEnv: Record<string, string> = {
  PGPASSWORD: 'Pg-Pass-4f1c9a7e',
  STRIPE_SK: 'sk_live_51HqZtB2eXampleSecretKey00',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPL3',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

/** Given to the app through Passengerfile.json `envvars`. */
const appEnvvars: Record<string, string> = {
  MYSQL_PWD: 'My-Pwd-0b2e8d61',
  SENTRY_DSN: 'https://5f0c1d2e3a4b4c5d8e9f0a1b2c3d4e5f@o4501.ingest.sentry.io/4502',
  DATABASE_URL: 'postgres://app:Db-Url-Pw-93ce@db.internal:5432/app',
  GITHUB_TOKEN: 'ghp_R4nd0mT0k3nV4lu3F0rSp3cAbCdEfGh1234',
  SLACK_BOT_TOKEN: 'xoxb-2400-5511-Sl4ckB0tT0k3nV4lu3',
  SIGNING_PRIVATE_KEY: PEM,
  SESSION_COOKIE_SECRET: 'c00k1e-s3cr3t-9d8c7b6a',
};

/** Secrets the server cannot know by name: the app prints them as literals. */
const literals = {
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzcGVjLXVzZXIifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
  bearer: 'Authorization: Bearer Lit3ralBearerT0ken0123456789',
  redisUrl: 'redis://:Lit-Redis-Pw-55aa@cache:6379/0',
  stripe: 'sk_live_L1teralInMessage0987654321',
  awsKey: 'AKIAJLITERALEXAMPL3Z',
  assignment: 'password=Lit-Pass-Word-11',
  slack: 'xoxp-1111-2222-L1teralSlackT0ken',
  github: 'github_pat_11ABCDEFG0LiteralPatToken_abcdefghijklmnop',
};

/** The part of each secret that must never be shown. */
const needles = [
  serverEnv.PGPASSWORD!, serverEnv.STRIPE_SK!, serverEnv.AWS_ACCESS_KEY_ID!, serverEnv.AWS_SECRET_ACCESS_KEY!,
  appEnvvars.MYSQL_PWD!, '5f0c1d2e3a4b4c5d8e9f0a1b2c3d4e5f', 'Db-Url-Pw-93ce', appEnvvars.GITHUB_TOKEN!, appEnvvars.SLACK_BOT_TOKEN!,
  ...PEM_BODY, appEnvvars.SESSION_COOKIE_SECRET!,
  'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', 'Lit3ralBearerT0ken0123456789', 'Lit-Redis-Pw-55aa', literals.stripe, literals.awsKey,
  'Lit-Pass-Word-11', literals.slack, 'LiteralPatToken',
  'Cmd-Arg-Pw-31', 'Cmd-Url-Pw-62',
];

/** Prints every secret (by name, bare, and as literals), in Node. */
const PRINTER = `
const e = process.env;
const names = ${JSON.stringify([...Object.keys(serverEnv), ...Object.keys(appEnvvars)])};
for (const k of names) console.log(k + '=' + e[k]);
console.error('bare values:', names.filter((k) => k !== 'SIGNING_PRIVATE_KEY').map((k) => e[k]).join(' '));
console.error(e.SIGNING_PRIVATE_KEY);
const lit = ${JSON.stringify(literals)};
for (const v of Object.values(lit)) console.log('literal', v);
console.log(JSON.stringify({ password: e.PGPASSWORD, apiKey: e.STRIPE_SK, db: e.DATABASE_URL }));
`;

function passengerfile(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ envvars: appEnvvars, ...extra });
}

interface Surfaces { [where: string]: string }

async function allSurfaces(p: RunningPassenger): Promise<{ surfaces: Surfaces; report: ErrorReport }> {
  const json = await fetch(`${p.url}/`, { headers: { Accept: 'application/json' } });
  const jsonText = await json.text();
  expect(json.status, jsonText).to.equal(500);
  const report = JSON.parse(jsonText) as ErrorReport;
  const html = await (await fetch(`${p.url}/`, { headers: { Accept: 'text/html' } })).text();
  await p.waitForOutput(new RegExp(`could not start a process \\(error ${report.id}\\)`));
  await p.waitForOutput(new RegExp(`\\[${report.id}\\] -- System --`));
  const reg = ['--instance-registry-dir', p.registryDir];
  const status = await passengerCommand(['status', ...reg]);
  const statusJson = await passengerCommand(['status', '--json', ...reg]);
  expect(status.code, status.stderr).to.equal(0);
  expect(statusJson.code, statusJson.stderr).to.equal(0);
  const found = findInstance({ instance_registry_dir: p.registryDir });
  const admin = await adminRequest(found.dir.adminSocket, passwordOf(found, 'readOnly'), 'GET', '/status');
  expect(admin.status).to.equal(200);
  return {
    report,
    surfaces: {
      'JSON report': jsonText, 'HTML page': html, 'passenger run output (log)': p.output(),
      'passenger status': status.stdout + status.stderr, 'passenger status --json': statusJson.stdout, 'admin API GET /status': JSON.stringify(admin.body),
    },
  };
}

function expectNoSecret(surfaces: Surfaces): void {
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(surfaces)) {
    for (const needle of needles) if (text.includes(needle)) leaks.push(`${where}: ${needle}`);
  }
  expect(leaks, `secrets shown:\n${leaks.join('\n')}`).to.deep.equal([]);
}

describe('secrets never reach a page, the log or the admin API', function () {
  let p: RunningPassenger | undefined;
  afterEach(async () => { await stopAndClean(p); p = undefined; removeApps(); });
  // PASSENGER_MAX_POOL_SIZE configures the server itself: it is not part of the app's environment.
  const env = () => ({ ...process.env, ...serverEnv, PASSENGER_MAX_POOL_SIZE: '3' });

  it('a Node app that prints its secrets and raises with them in the message', async () => {
    const app = makeApp({
      'package.json': '{ "name": "leaky", "private": true, "type": "commonjs" }',
      'Passengerfile.json': passengerfile(),
      'app.js': `${PRINTER}
throw new Error('cannot reach postgres://app:' + encodeURIComponent('Db-Url-Pw-93ce') + '@db with key ' + e.STRIPE_SK + ' and ' + ${JSON.stringify(literals.stripe)} + ' as ' + e.MYSQL_PWD);
`,
    });
    p = await startPassenger(app, { env: env() });
    const { surfaces, report } = await allSurfaces(p);
    expectNoSecret(surfaces);

    // The developer still sees that each variable exists, and its length or shape.
    expect(report.environment.PGPASSWORD).to.equal(`•••••• (masked, ${serverEnv.PGPASSWORD!.length} characters)`);
    expect(report.environment.MYSQL_PWD).to.equal(`•••••• (masked, ${appEnvvars.MYSQL_PWD!.length} characters)`);
    expect(report.environment.SENTRY_DSN).to.match(/^•••••• \(masked, \d+ characters\)$/);
    expect(report.environment.STRIPE_SK).to.match(/^•••••• \(masked, \d+ characters\)$/);
    expect(report.summary).to.include('postgres://app:••••••@db');
    expect(report.summary).to.include('sk_live_••••••');
    expect(report.output.join('\n')).to.include('-----BEGIN RSA PRIVATE KEY-----');
    expect(report.output.join('\n')).to.match(/PGPASSWORD=•••••• \(masked, 16 characters\)/);
    expect(surfaces['HTML page']).to.include('<td>PGPASSWORD</td><td class="masked">•••••• (masked, 16 characters)</td>');
    // The environment shown is the app's: the server's own configuration variables are not in it.
    expect(report.environment).to.have.property('IN_PASSENGER', '1');
    expect(report.environment).to.have.property('PASSENGER_APP_ENV', 'development');
    expect(Object.keys(report.environment)).not.to.include('PASSENGER_MAX_POOL_SIZE');
  });

  it('a generic app whose start command carries secrets prints them and exits 1 (command, hint and output)', async () => {
    const app = makeApp({
      'Passengerfile.json': passengerfile({ app_start_command: 'node printer.js --db-password=Cmd-Arg-Pw-31 postgres://u:Cmd-Url-Pw-62@db/x; exit 1' }),
      'printer.js': PRINTER,
    });
    p = await startPassenger(app, { env: env() });
    const { surfaces, report } = await allSurfaces(p);
    expectNoSecret(surfaces);
    const hint = report.hints.find((h) => h.plugin === 'passenger:generic');
    expect(hint, JSON.stringify(report.hints)).to.not.equal(undefined);
    expect(hint!.command).to.include('--db-password=•••••• (masked, 13 characters)');
    expect(hint!.command).to.include('postgres://u:••••••@db/x');
    expect(hint!.body).to.include('It printed, last:');
  });

  it('a healthy app: what it prints while serving reaches the log masked too', async () => {
    const app = makeApp({
      'package.json': '{ "name": "chatty", "private": true, "type": "commonjs" }',
      'Passengerfile.json': passengerfile(),
      'app.js': `${PRINTER}
require('node:http').createServer((req, res) => {
  console.log('request with ' + process.env.DATABASE_URL + ' and ' + process.env.MYSQL_PWD + ' ' + ${JSON.stringify(literals.bearer)});
  res.end('ok');
}).listen(3000);
`,
    });
    p = await startPassenger(app, { env: env() });
    const r = await fetch(`${p.url}/`);
    expect(await r.text()).to.equal('ok');
    await p.waitForOutput(/request with postgres:\/\/app:••••••@db\.internal:5432\/app and •••••• \(masked, 15 characters\) Authorization: Bearer ••••••/);
    expectNoSecret({ 'passenger run output (log)': p.output() });
  });

  it('a Rack app that raises with secrets in the message, through the preloader', async () => {
    const app = makeApp({
      'Passengerfile.json': passengerfile(),
      'config.ru': `$stderr.puts "starting with #{ENV['DATABASE_URL']} and #{ENV['GITHUB_TOKEN']}"
raise ArgumentError, "bad credentials: #{ENV['PGPASSWORD']} / #{ENV['STRIPE_SK']} / ${literals.awsKey} / ${literals.jwt}"
`,
    });
    p = await startPassenger(app, { env: env() });
    const { surfaces, report } = await allSurfaces(p);
    expectNoSecret(surfaces);
    expect(report.errorClass).to.equal('ArgumentError');
    expect(report.summary).to.match(/^bad credentials: •••••• \(masked, 16 characters\) \/ sk_live_•••••• \/ AKIA•••••• \/ eyJ••••••/);
  });
});
