// Error report hints for Rack apps: Bundler problems (a gem that is not
// installed, no or a stale Gemfile.lock, the wrong Ruby), a require that is
// not in the bundle, and the line of the app's own code that raised. Each
// command names the Ruby the app actually ran with, found by asking it.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { shellQuote, type ErrorContext, type ErrorReport, type ReportHint } from '../../core/index.ts';

interface RubyIdentity {
  /** The absolute path of the interpreter, or the command when it could not be asked. */
  path: string;
  version?: string;
}

const PROBE_TIMEOUT_MS = 3000;
// Enough of the app's environment to find the same Ruby (version managers read these); nothing secret.
const RUBY_ENV = /^(PATH|HOME|LANG|GEM_|RBENV_|RUBY|BUNDLE_|CHRUBY|ASDF_|MISE_|RVM_|MY_RUBY_HOME)/;

/**
 * Asks the interpreter the app ran with where it lives and which version it
 * is. It runs as the app's user: the command and environment are the app's.
 */
async function identifyRuby(report: ErrorReport): Promise<RubyIdentity> {
  const command = report.command[0] ?? 'ruby';
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(report.environment)) if (RUBY_ENV.test(k)) env[k] = v;
  const asApp = process.getuid?.() === 0 && report.user.uid !== 0 ? { uid: report.user.uid, gid: report.user.gid } : {};
  // execa (loaded here, when an app failed to start): a hung probe is killed, SIGKILL included, and never rejects.
  const { execa } = await import('execa');
  const probe = await execa(command, ['-e', 'print RbConfig.ruby, "\\n", RUBY_VERSION'], {
    cwd: report.cwd, env, extendEnv: false, timeout: PROBE_TIMEOUT_MS, forceKillAfterDelay: 1000, reject: false, stdin: 'ignore', ...asApp,
  });
  const [path, version] = probe.stdout.split('\n');
  return probe.failed || !path ? { path: command } : { path, ...(version ? { version } : {}) };
}

function rubyText(ruby: RubyIdentity): string {
  return `\`${ruby.path}\`${ruby.version ? ` (Ruby ${ruby.version})` : ''}`;
}

function inApp(report: ErrorReport, command: string): string {
  return `cd ${shellQuote(report.appRoot)} && ${command}`;
}

function gemNotFound(report: ErrorReport, ruby: RubyIdentity): ReportHint {
  const m = /Could not find gem '([^' ]+)/.exec(report.summary) ?? /Could not find ([\w.-]+?)-\d[\w.]*/.exec(report.summary);
  const gem = m?.[1];
  const hasLock = existsSync(join(report.appRoot, 'Gemfile.lock'));
  const body = [
    `Bundler could not find ${gem ? `the gem \`${gem}\`` : 'a gem from the Gemfile'} among the gems installed for ${rubyText(ruby)}, which this app ran with as user \`${report.user.name}\`.`,
    hasLock
      ? 'Install the bundle for that Ruby with the command below.'
      : 'There is no Gemfile.lock yet: the command below resolves the versions, installs them and writes Gemfile.lock. Commit it, so every server runs the same versions.',
    `If the gems are installed but not found, they belong to another Ruby or another user: install them as \`${report.user.name}\` with this Ruby, or set the \`ruby\` option to the interpreter that has them.${gem ? ` If \`${gem}\` is a typo, fix the Gemfile first.` : ''}`,
  ].join('\n\n');
  return { title: gem ? `Install the gem "${gem}" (bundle install)` : 'Install the gems in the Gemfile (bundle install)', body, command: inApp(report, `${shellQuote(ruby.path)} -S bundle install`) };
}

function rubyVersionMismatch(report: ErrorReport, ruby: RubyIdentity): ReportHint {
  const m = /Your Ruby version is (\S+), but your Gemfile specified (\S+)/.exec(report.summary);
  const wanted = m?.[2] ?? 'the version in the Gemfile';
  return {
    title: `Run the app with Ruby ${wanted}`,
    body: `The Gemfile asks for Ruby ${wanted}, but the app ran with ${rubyText(ruby)}.\n\nInstall Ruby ${wanted} and point the \`ruby\` option at it (in Passengerfile.json, .passengerrc, or with --ruby as below), or change the \`ruby\` line of the Gemfile to the version you have. Then install the bundle for that Ruby.`,
    command: `passenger run ${shellQuote(report.appRoot)} --ruby /path/to/ruby-${wanted}/bin/ruby`,
  };
}

function lockfileProblem(report: ErrorReport, ruby: RubyIdentity, message: string): ReportHint {
  const hasLock = existsSync(join(report.appRoot, 'Gemfile.lock'));
  // Bundler often names the exact command in backticks; prefer it.
  const suggested = /`(bundle [^`]+)`/.exec(message)?.[1];
  const command = suggested ? suggested.replace(/^bundle /, `${shellQuote(ruby.path)} -S bundle `) : `${shellQuote(ruby.path)} -S bundle install`;
  return {
    title: hasLock ? 'Bring Gemfile.lock up to date' : 'Create Gemfile.lock (bundle install)',
    body: hasLock
      ? `Bundler refused the bundle as locked (frozen or deployment mode): Gemfile.lock does not match the Gemfile or this platform. Update the lockfile where you develop, commit it, and deploy again; or run the command below in the app directory with ${rubyText(ruby)}.`
      : 'Bundler runs in frozen or deployment mode, which needs a Gemfile.lock, and the app has none. Run `bundle install` where you develop, commit Gemfile.lock, and deploy again; or create it here with the command below.',
    command: inApp(report, command),
  };
}

function loadError(report: ErrorReport, ruby: RubyIdentity): ReportHint | undefined {
  const feature = /cannot load such file -- (\S+)/.exec(report.summary)?.[1];
  if (!feature) return undefined;
  if (feature.startsWith('.') || feature.startsWith('/')) {
    return { title: `A file the app requires is missing: ${feature}`, body: `Ruby could not load \`${feature}\`. Check that the file was deployed and that the path is right (relative requires resolve against the working directory \`${report.cwd}\`; \`require_relative\` against the requiring file).` };
  }
  const gem = feature.split('/')[0]!;
  if (existsSync(join(report.appRoot, 'Gemfile'))) {
    return {
      title: `Add "${gem}" to the Gemfile`,
      body: `The app requires \`${feature}\`, but the bundle does not include a gem that provides it, so Bundler hides it even if it is installed. Add it to the Gemfile and install it (the gem's name may differ from what is required: \`active_support\` comes from \`activesupport\`).`,
      command: inApp(report, `${shellQuote(ruby.path)} -S bundle add ${shellQuote(gem)}`),
    };
  }
  return {
    title: `Install the gem that provides "${feature}"`,
    body: `${rubyText(ruby)} could not load \`${feature}\`. Install the gem for that Ruby (its name may differ from what is required), or better, list the app's gems in a Gemfile so that every server gets the same ones.`,
    command: `${shellQuote(ruby.path)} -S gem install ${shellQuote(gem)}`,
  };
}

/** The first backtrace line in the app's own files (not in gems): where to look first. */
function appFrame(report: ErrorReport): ReportHint | undefined {
  const re = /^\s*(?:from\s+)?(\/[^:\s]+):(\d+):in/gm;
  for (const m of report.detail.matchAll(re)) {
    const file = m[1]!;
    const rel = relative(report.appRoot, file);
    if (rel.startsWith('..') || rel.includes('vendor/bundle/') || rel.includes('/gems/')) continue;
    return {
      title: `Look at ${rel}, line ${m[2]}`,
      body: `Loading the app raised ${report.errorClass ?? 'an error'}: ${report.summary}\n\nThis is the first line of the app's own code in the backtrace below. Fix it there; touch tmp/restart.txt (or just reload, once the retry delay has passed) to try again.`,
    };
  }
  return undefined;
}

/**
 * A file that does not parse. The backtrace of a SyntaxError starts where the file was
 * required (config.ru), not in the file itself: the file and line are in the message.
 */
function syntaxError(report: ErrorReport): ReportHint | undefined {
  const m = /(?:^|\s)(\/[^\s:]+):(\d+): (.*)/.exec(report.summary) ?? /(?:^|\s)(\/[^\s:]+):(\d+): (.*)/.exec(report.detail);
  if (!m) return undefined;
  const rel = relative(report.appRoot, m[1]!);
  const shown = rel.startsWith('..') ? m[1]! : rel;
  return {
    title: `Look at ${shown}, line ${m[2]}`,
    body: `Ruby could not parse ${shown}: ${m[3]}\n\nThe details below show the line with a caret under the spot; the backtrace only says where the file was loaded from. Fix it there; touch tmp/restart.txt (or just reload, once the retry delay has passed) to try again.`,
  };
}

async function hintFor(report: ErrorReport, cls: string): Promise<ReportHint | undefined> {
  const message = `${report.summary}\n${report.detail}`;
  if (cls === 'SyntaxError') return syntaxError(report) ?? appFrame(report);
  const bundler = cls.startsWith('Bundler::');
  if (!bundler && cls !== 'LoadError') return appFrame(report);
  const ruby = await identifyRuby(report);
  if (cls === 'Bundler::GemNotFound') return gemNotFound(report, ruby);
  if (cls === 'Bundler::RubyVersionMismatch') return rubyVersionMismatch(report, ruby);
  if (bundler && /Gemfile\.lock|lockfile|frozen|deployment/i.test(message)) return lockfileProblem(report, ruby, message);
  if (cls === 'LoadError') return loadError(report, ruby) ?? appFrame(report);
  return appFrame(report);
}

export async function rubyHints(report: ErrorReport, _ctx: ErrorContext, plugin: string): Promise<ErrorReport> {
  if (!report.errorClass) return report;
  const hint = await hintFor(report, report.errorClass);
  if (hint) report.hints.push({ ...hint, plugin });
  return report;
}
