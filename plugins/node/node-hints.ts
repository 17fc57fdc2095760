// Error report hints for Node.js apps: missing packages and files
// (MODULE_NOT_FOUND, ERR_MODULE_NOT_FOUND), ES module / CommonJS mismatches,
// a port already in use, and the line of the app's own code that threw.
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { shellQuote, type ErrorContext, type ErrorReport, type ReportHint } from '../../core/index.ts';

interface PackageJson {
  type?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson | undefined {
  try { return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson; } catch { return undefined; }
}

/** `Error [MODULE_NOT_FOUND]` (how the loader names errors with a code) -> `MODULE_NOT_FOUND`. */
function errorCode(report: ErrorReport): string | undefined {
  return /\[(\w+)\]$/.exec(report.errorClass ?? '')?.[1];
}

function inApp(report: ErrorReport, command: string): string {
  return `cd ${shellQuote(report.appRoot)} && ${command}`;
}

/** The package manager the app's lockfile belongs to, and its install commands. */
function packageManager(appRoot: string): { install: string; add: (pkg: string) => string } {
  if (existsSync(join(appRoot, 'pnpm-lock.yaml'))) return { install: 'pnpm install --frozen-lockfile', add: (p) => `pnpm add ${p}` };
  if (existsSync(join(appRoot, 'yarn.lock'))) return { install: 'yarn install --frozen-lockfile', add: (p) => `yarn add ${p}` };
  if (existsSync(join(appRoot, 'package-lock.json'))) return { install: 'npm ci', add: (p) => `npm install ${p}` };
  return { install: 'npm install', add: (p) => `npm install ${p}` };
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function nodeText(report: ErrorReport): string {
  return `Node.js ${report.properties.node_version ?? ''}`.trim();
}

function missingFile(report: ErrorReport, specifier: string): ReportHint {
  const abs = specifier.startsWith('/') ? specifier : undefined;
  const withJs = abs && !extname(abs) && ['.js', '.mjs', '.cjs', '.json'].find((e) => existsSync(abs + e));
  if (abs && withJs) {
    return {
      title: `Add the file extension: import "${basename(abs)}${withJs}"`,
      body: `${basename(abs)}${withJs} exists, but ES modules do not guess extensions the way require() does. Write the import with the full file name (\`./${basename(abs)}${withJs}\`).`,
    };
  }
  const shown = abs ? relative(report.appRoot, abs) || abs : specifier;
  return {
    title: `A file the app loads is missing: ${shown}`,
    body: `${nodeText(report)} could not find \`${specifier}\`. Check that the file was deployed (build output and generated files are often left out) and that the path is right: relative paths resolve against the file that loads them.`,
  };
}

function missingPackage(report: ErrorReport, specifier: string, environment: string): ReportHint {
  const pkg = packageName(specifier);
  const json = readPackageJson(report.appRoot);
  const pm = packageManager(report.appRoot);
  const listed = json?.dependencies?.[pkg] ?? json?.optionalDependencies?.[pkg];
  const dev = json?.devDependencies?.[pkg];
  if (listed !== undefined) {
    return {
      title: `Install the app's dependencies ("${pkg}" is not installed)`,
      body: `package.json lists \`${pkg}\` (${listed}), but it is not in node_modules: the dependencies were not installed in \`${report.appRoot}\`, or were installed for another directory or user. Install them as \`${report.user.name}\`.`,
      command: inApp(report, pm.install),
    };
  }
  if (dev !== undefined) {
    return {
      title: `"${pkg}" is only a devDependency`,
      body: `package.json lists \`${pkg}\` under devDependencies, which production installs leave out (\`npm ci --omit=dev\`, or NODE_ENV=production; this app runs with environment ${environment}). The app needs it at run time: move it to dependencies, then install.`,
      command: inApp(report, `npm pkg delete devDependencies.${pkg} && ${pm.add(pkg)}`),
    };
  }
  return {
    title: `Add the package "${pkg}"`,
    body: `The app loads \`${specifier}\`, but ${json ? 'package.json does not list it' : 'there is no package.json'}, so it was never installed. Add it as a dependency (this installs it and records it in package.json).`,
    command: inApp(report, pm.add(shellQuote(pkg))),
  };
}

function moduleNotFound(report: ErrorReport, environment: string): ReportHint | undefined {
  const m = /Cannot find (?:module|package) '([^']+)'/.exec(report.summary);
  if (!m) return undefined;
  const specifier = m[1]!;
  if (specifier.startsWith('.') || specifier.startsWith('/')) return missingFile(report, specifier);
  return missingPackage(report, specifier, environment);
}

function requireOfEsm(report: ErrorReport): ReportHint {
  const asyncGraph = errorCode(report) === 'ERR_REQUIRE_ASYNC_MODULE';
  return {
    title: 'CommonJS code require()s an ES module',
    body: `${asyncGraph ? 'The required module (or one it imports) uses top-level await, so require() cannot load it.' : 'The required file is an ES module, which require() cannot load in this Node.js version.'} Any of these fixes it:\n- load it with \`await import(...)\` instead of \`require(...)\`;\n- make the requiring file an ES module too (rename it to .mjs, or set \`"type": "module"\` in package.json and use import);\n- or use a version of the package that still ships CommonJS.`,
  };
}

function esmScopeMismatch(report: ErrorReport, name: string): ReportHint {
  const pkg = readPackageJson(report.appRoot);
  const why = pkg?.type === 'module' ? 'package.json has `"type": "module"`, so .js files are ES modules' : 'the file is an ES module (.mjs)';
  return {
    title: `An ES module uses \`${name}\`, which only CommonJS has`,
    body: `${why}, and \`${name}\` does not exist in ES modules. Any of these fixes it:\n- use ES module syntax: \`import x from 'x'\` instead of \`require('x')\`, \`export\` instead of \`module.exports\`, \`import.meta.dirname\` and \`import.meta.filename\` instead of \`__dirname\` and \`__filename\`;\n- or rename the file to .cjs (and set \`startup_file\` if it is the app's entry point);\n- or remove \`"type": "module"\` from package.json if the app is written as CommonJS.`,
  };
}

function importInCommonJs(report: ErrorReport): ReportHint {
  return {
    title: 'The app uses import/export but is loaded as CommonJS',
    body: 'Node.js treats .js files as CommonJS unless package.json says `"type": "module"`. Set it with the command below (or rename the file to .mjs); or write the file with require() and module.exports instead.',
    command: inApp(report, 'npm pkg set type=module'),
  };
}

function namedExportOfCommonJs(report: ErrorReport): ReportHint {
  const pkg = /The requested module '([^']+)' is a CommonJS module/.exec(report.detail + report.summary)?.[1] ?? 'the package';
  return {
    title: `Import ${pkg} as a default export`,
    body: `${pkg} is a CommonJS module, so ES modules can only rely on its default export. Write \`import pkg from '${pkg}'\` and then \`const { name } = pkg\`.`,
  };
}

function addressInUse(report: ErrorReport): ReportHint {
  const port = /EADDRINUSE[^\n]*?:(\d+)\s*$/m.exec(report.summary)?.[1];
  return {
    title: port ? `Port ${port} is already in use` : 'An address the app listens on is already in use',
    body: `The app's first server.listen() gets a private socket from passenger, whatever port it asks for; this error comes from a second listen() (another server, or a second call). Something else already holds ${port ? `port ${port}` : 'that address'}: stop it, or do not start the extra server when running under passenger.`,
    ...(port ? { command: `ss -ltnp 'sport = :${port}'` } : {}),
  };
}

function unknownFileType(): ReportHint {
  return {
    title: 'Node.js cannot run this file type directly',
    body: 'Compile the app first and point `startup_file` at the compiled .js file, or run it through a loader with `app_start_command` (for example `node --import tsx app.ts`, listening on $PORT).',
  };
}

/**
 * A file that does not parse: the loader put node's own "file:line", source line and caret at the
 * top of the detail (helper-scripts/lib/node/syntax-error-location.cjs), since an ES module's
 * SyntaxError carries no frame of the app.
 */
function unparsableFile(report: ErrorReport): ReportHint | undefined {
  const m = /^(?:file:\/\/)?(\/\S+):(\d+)\n/.exec(report.detail);
  if (!m) return undefined;
  const rel = relative(report.appRoot, m[1]!);
  const shown = rel.startsWith('..') ? m[1]! : rel;
  return {
    title: `Look at ${shown}, line ${m[2]}`,
    body: `Node.js could not parse ${shown}: ${report.summary}. The line and a caret under the spot are at the top of the details below, as \`node ${shown}\` shows them. Fix it there; touch tmp/restart.txt (or just reload, once the retry delay has passed) to try again.`,
  };
}

/** The first stack frame in the app's own files (not node_modules, not Node's internals). */
function appFrame(report: ErrorReport): ReportHint | undefined {
  for (const m of report.detail.matchAll(/(?:\(|at |^)(?:file:\/\/)?(\/[^():\s]+):(\d+)(?::\d+)?/gm)) {
    const file = m[1]!;
    const rel = relative(report.appRoot, file);
    if (rel.startsWith('..') || rel.includes('node_modules/')) continue;
    return {
      title: `Look at ${rel}, line ${m[2]}`,
      body: `Loading the app threw ${report.errorClass ?? 'an error'}: ${report.summary}\n\nThis is the first line of the app's own code in the stack trace below. Fix it there; touch tmp/restart.txt (or just reload, once the retry delay has passed) to try again.`,
    };
  }
  return undefined;
}

function hintFor(report: ErrorReport, ctx: ErrorContext): ReportHint | undefined {
  const code = errorCode(report);
  const text = `${report.summary}\n${report.detail}`;
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') return moduleNotFound(report, ctx.app.options.environment) ?? appFrame(report);
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_ASYNC_MODULE') return requireOfEsm(report);
  if (code === 'EADDRINUSE' || /EADDRINUSE/.test(report.summary)) return addressInUse(report);
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION') return unknownFileType();
  const esmScope = /\b(require|module|exports|__dirname|__filename) is not defined in ES module scope/.exec(text);
  if (esmScope) return esmScopeMismatch(report, esmScope[1]!);
  if (/Cannot use import statement outside a module|Unexpected token 'export'/.test(text)) return importInCommonJs(report);
  if (/Named export '[^']+' not found/.test(text)) return namedExportOfCommonJs(report);
  if (report.errorClass === 'SyntaxError') return unparsableFile(report) ?? appFrame(report);
  return appFrame(report);
}

export function nodeHints(report: ErrorReport, ctx: ErrorContext, plugin: string): ErrorReport {
  if (!report.errorClass) return report;
  const hint = hintFor(report, ctx);
  if (hint) report.hints.push({ ...hint, plugin });
  return report;
}
