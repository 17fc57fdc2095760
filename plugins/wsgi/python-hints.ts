// Error report hints for WSGI apps: a module that is not installed for the
// interpreter the app actually ran with (the loader reports it), a name a
// module does not have, a missing `application` callable, and the line of the
// app's own code that raised.
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { shellQuote, type ErrorContext, type ErrorReport, type ReportHint } from '../../core/index.ts';
import { VIRTUALENVS } from '../languages/python.ts';

interface Interpreter {
  path: string;
  version?: string;
  /** Why this interpreter ran the app. */
  chosenBy: string;
}

function interpreterOf(report: ErrorReport, ctx: ErrorContext): Interpreter {
  const path = report.properties.interpreter ?? report.command[0] ?? 'python3';
  const version = report.properties.python_version;
  const venv = VIRTUALENVS.find((d) => path.startsWith(join(report.appRoot, d) + '/'));
  const chosenBy = typeof ctx.app.options.python === 'string' ? `the \`python\` option (${ctx.app.sources.python ?? 'set'})`
    : venv ? `the virtualenv ${venv}/ in the app directory` : 'default: no `python` option and no .venv/ or venv/ in the app directory';
  return { path, chosenBy, ...(version ? { version } : {}) };
}

function interpreterText(py: Interpreter): string {
  return `\`${py.path}\`${py.version ? ` (Python ${py.version})` : ''}, chosen by ${py.chosenBy}`;
}

function appVirtualenv(report: ErrorReport): string | undefined {
  return VIRTUALENVS.find((d) => existsSync(join(report.appRoot, d, 'bin', 'python')));
}

/** What installs the app's dependencies: its requirements file or project, else just the module. */
function installArgs(report: ErrorReport, module: string): string {
  if (existsSync(join(report.appRoot, 'requirements.txt'))) return '-r requirements.txt';
  if (existsSync(join(report.appRoot, 'pyproject.toml'))) return '.';
  return shellQuote(module);
}

function missingModule(report: ErrorReport, py: Interpreter, module: string): ReportHint[] {
  const top = module.split('.')[0]!;
  const args = installArgs(report, top);
  const hints: ReportHint[] = [{
    title: `Install the Python module "${top}" for the interpreter the app runs with`,
    body: `The app ran with ${interpreterText(py)}, and that interpreter cannot import \`${module}\`. Install it into that interpreter's environment with the command below.${args === shellQuote(top) ? ` The package on PyPI may be named differently from the module (\`yaml\` is PyYAML, \`cv2\` is opencv-python, \`PIL\` is Pillow).` : ''}\n\nA module that is installed but not found usually belongs to another Python: another version, a virtualenv, or another user's site-packages (the app runs as \`${report.user.name}\`).`,
    command: `cd ${shellQuote(report.appRoot)} && ${shellQuote(py.path)} -m pip install ${args}`,
  }];
  const venv = appVirtualenv(report);
  if (!venv && !/\/(\.?venv|virtualenvs?|envs)\//.test(py.path)) {
    hints.push({
      title: 'Give the app its own virtualenv',
      body: 'The app runs with a system-wide Python. A virtualenv named .venv/ or venv/ in the app directory is used automatically (no configuration needed), and keeps the app\'s packages apart from everything else. Or set the `python` option to the interpreter of an existing virtualenv.',
      command: `cd ${shellQuote(report.appRoot)} && python3 -m venv .venv && .venv/bin/python -m pip install ${args}`,
    });
  } else if (venv && !py.path.startsWith(join(report.appRoot, venv) + '/')) {
    hints.push({
      title: `The app has ${venv}/, but ran with another Python`,
      body: `The \`python\` option points at \`${py.path}\`, so the virtualenv in ${venv}/ was not used. Remove the option to use ${venv}/, or install the module for the configured interpreter.`,
    });
  }
  return hints;
}

function missingName(report: ErrorReport, py: Interpreter, name: string, module: string): ReportHint {
  const top = module.split('.')[0]!;
  return {
    title: `"${module}" has no "${name}": check the installed version`,
    body: `\`from ${module} import ${name}\` failed with ${interpreterText(py)}. Usually the installed version of ${top} is older or newer than the app expects (pin the version the app was written for), or two modules import each other (a circular import). A local file named ${top}.py in the app can also shadow the real package.`,
    command: `${shellQuote(py.path)} -m pip show ${shellQuote(top)}`,
  };
}

function noApplication(report: ErrorReport): ReportHint {
  return {
    title: 'Name the WSGI callable `application`',
    body: 'passenger_wsgi.py must define a callable named `application`. For a Flask app called `app`: `from app import app as application`. For Django: `from django.core.wsgi import get_wsgi_application` then `application = get_wsgi_application()`.',
  };
}

/** The deepest traceback frame in the app's own files (tracebacks list the innermost call last). */
function appFrame(report: ErrorReport): ReportHint | undefined {
  let found: { rel: string; line: string } | undefined;
  for (const m of report.detail.matchAll(/^\s*File "([^"]+)", line (\d+)/gm)) {
    const rel = relative(report.appRoot, m[1]!);
    if (rel.startsWith('..') || /(^|\/)(\.?venv|site-packages)\//.test(rel)) continue;
    found = { rel, line: m[2]! };
  }
  if (!found) return undefined;
  return {
    title: `Look at ${found.rel}, line ${found.line}`,
    body: `Loading the app raised ${report.errorClass ?? 'an error'}: ${report.summary}\n\nThis is the innermost line of the app's own code in the traceback below. Fix it there; touch tmp/restart.txt (or just reload, once the retry delay has passed) to try again.`,
  };
}

function hintsFor(report: ErrorReport, ctx: ErrorContext): ReportHint[] {
  const py = interpreterOf(report, ctx);
  const cls = report.errorClass ?? '';
  const missing = /No module named '([^']+)'/.exec(report.summary)?.[1];
  if ((cls === 'ModuleNotFoundError' || cls === 'ImportError') && missing) return missingModule(report, py, missing);
  const name = /cannot import name '([^']+)' from '([^']+)'/.exec(report.summary);
  if (cls === 'ImportError' && name) return [missingName(report, py, name[1]!, name[2]!)];
  if (/does not define `application`/.test(report.summary)) return [noApplication(report)];
  const frame = appFrame(report);
  return frame ? [frame] : [];
}

export function pythonHints(report: ErrorReport, ctx: ErrorContext, plugin: string): ErrorReport {
  if (!report.errorClass) return report;
  for (const hint of hintsFor(report, ctx)) report.hints.push({ ...hint, plugin });
  return report;
}
