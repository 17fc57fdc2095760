// "This module is not installed for the Python the app ran with, but another
// installed Python has it": the most common first-run failure on a Debian or
// Ubuntu server, where apt installs frameworks for /usr/bin/python3 and PATH
// finds another python3 first. Only interpreters owned by root and writable by
// nobody else are asked, in isolated mode (-I: no app directory, no user site,
// no PYTHON* variables), and they only look the module up (find_spec), so no
// code of the app or of the module runs.
import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import type { ErrorContext, ErrorReport, ReportHint } from '../../core/index.ts';

/** Where distributions and the usual installers put system interpreters. */
export const SYSTEM_PYTHONS = ['/usr/bin/python3', '/usr/local/bin/python3', '/opt/homebrew/bin/python3'];
const LOOKUP_TIMEOUT_MS = 3000;
const FIND = 'import importlib.util, sys; spec = importlib.util.find_spec(sys.argv[1]); print("%d.%d.%d" % sys.version_info[:3]); sys.exit(0 if spec else 3)';

async function trustworthy(path: string): Promise<string | undefined> {
  try {
    const real = await realpath(path);
    const st = await stat(real);
    return st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0 && (st.mode & 0o111) !== 0 ? real : undefined;
  } catch {
    return undefined;
  }
}

/** The interpreter's version when it can import `module`, else undefined. */
function versionIfItHas(python: string, module: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(python, ['-I', '-c', FIND, module], { cwd: '/', timeout: LOOKUP_TIMEOUT_MS, env: { PATH: '/usr/bin:/bin' } }, (error, stdout) => {
      resolve(error ? undefined : stdout.trim() || '?');
    });
  });
}

/** A hint naming another installed interpreter that has the missing module, when one does. */
export async function otherInterpreterHint(report: ErrorReport, ctx: ErrorContext, plugin: string, candidates = SYSTEM_PYTHONS): Promise<ErrorReport> {
  const module = /No module named '([^']+)'/.exec(report.summary)?.[1];
  if (!module || (report.errorClass !== 'ModuleNotFoundError' && report.errorClass !== 'ImportError')) return report;
  const top = module.split('.')[0]!;
  const ran = report.properties.interpreter ?? report.command[0];
  const ranReal = ran ? await realpath(ran).catch(() => ran) : undefined;
  for (const candidate of candidates) {
    const real = await trustworthy(candidate);
    if (!real || real === ranReal) continue;
    const version = await versionIfItHas(real, top);
    if (version === undefined) continue;
    const where = ctx.app.configFile ? `"python": "${candidate}" in ${ctx.app.configFile}` : `"python": "${candidate}" in Passengerfile.json`;
    const hint: ReportHint = {
      title: `${candidate} has "${top}": set the python option to use it`,
      body: `The app ran with \`${ran ?? 'python3'}\`, which cannot import \`${top}\`, but \`${candidate}\` (Python ${version}) can: its packages were probably installed with apt or for that interpreter. To run the app with it, set the \`python\` option: ${where}, or \`--python ${candidate}\` on the command line.`,
      command: `passenger run --python ${candidate}`,
      plugin,
    };
    report.hints.unshift(hint);
    return report;
  }
  return report;
}
