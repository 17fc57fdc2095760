// Zero-config detection of the common Python web app layouts, for the wsgi and
// asgi plugins. Static only: files are read and matched, never imported or
// run, so `passenger detect` has no side effects and root runs none of the
// app's code. Every answer says why, for `passenger detect`.
import { join } from 'node:path';
import type { AppTypeMatch, DetectContext } from '../../core/index.ts';

export type PythonInterface = 'wsgi' | 'asgi';

/** What a framework's source shows: the module-level object it creates and under which name. */
interface Creation { framework: string; name: string; iface: PythonInterface }

const FRAMEWORKS: { framework: string; iface: PythonInterface }[] = [
  { framework: 'Flask', iface: 'wsgi' },
  { framework: 'FastAPI', iface: 'asgi' },
  { framework: 'Starlette', iface: 'asgi' },
];
/** The names the loaders look for in a startup file, in this order. */
export const CALLABLE_NAMES = ['application', 'app'];

/** Strips comments and string contents well enough that `# Flask(` or a docstring does not count. */
function codeOnly(source: string): string {
  return source
    .replace(/("""|''')[\s\S]*?\1/g, '""')
    .replace(/(["'])(?:\\.|(?!\1)[^\\\n])*\1/g, '""')
    .replace(/#.*$/gm, '');
}

/** Module-level `name = Flask(` / `FastAPI(` / `Starlette(` assignments (also `flask.Flask(`). */
export function frameworkCreations(source: string): Creation[] {
  const code = codeOnly(source);
  const found: Creation[] = [];
  for (const { framework, iface } of FRAMEWORKS) {
    const re = new RegExp(`^([A-Za-z_]\\w*)\\s*(?::[^=\\n]+)?=\\s*(?:[A-Za-z_]\\w*\\.)*${framework}\\s*\\(`, 'gm');
    for (const m of code.matchAll(re)) found.push({ framework, name: m[1]!, iface });
  }
  return found;
}

/** Whether the source defines one of the loaders' callable names at module level (assignment, def, class or import). */
export function definesCallable(source: string, names = CALLABLE_NAMES): string | undefined {
  const code = codeOnly(source);
  return names.find((n) => new RegExp(`^(?:${n}\\s*(?::[^=\\n]+)?=|(?:async\\s+)?def\\s+${n}\\b|class\\s+${n}\\b|(?:from\\s+\\S+\\s+)?import\\s+.*\\bas\\s+${n}\\b|from\\s+\\S+\\s+import\\s+(?:.*,\\s*)?${n}\\b)`, 'm').test(code));
}

/** The source shows an ASGI callable: an `async def` taking (scope, receive, send), or an ASGI framework's app. */
export function showsAsgi(source: string): boolean {
  const code = codeOnly(source);
  return frameworkCreations(source).some((c) => c.iface === 'asgi')
    || /async\s+def\s+(?:application|app|__call__)\s*\(\s*(?:self\s*,\s*)?scope\s*,\s*receive\s*,\s*send\s*\)/.test(code)
    || /\bget_asgi_application\s*\(/.test(code);
}

export function showsWsgi(source: string): boolean {
  const code = codeOnly(source);
  return frameworkCreations(source).some((c) => c.iface === 'wsgi') || /\bget_wsgi_application\s*\(/.test(code)
    || /def\s+(?:application|app)\s*\(\s*environ\s*,\s*start_response\s*\)/.test(code);
}

/** A dotted module path to its file: a/b.py, else a/b/__init__.py. */
async function moduleFile(ctx: DetectContext, dotted: string): Promise<string | undefined> {
  const base = dotted.split('.').join('/');
  for (const rel of [`${base}.py`, `${base}/__init__.py`]) if (await ctx.exists(rel)) return rel;
  return undefined;
}

export interface DjangoProject {
  settingsModule: string;
  settingsFile: string;
  /** `WSGI_APPLICATION` / `ASGI_APPLICATION` as written, when set. */
  wsgiApplication?: string;
  asgiApplication?: string;
}

/** manage.py -> its DJANGO_SETTINGS_MODULE -> the settings file; undefined with a reason when a step is missing. */
export async function djangoProject(ctx: DetectContext): Promise<DjangoProject | { passedOver: string } | undefined> {
  const manage = await ctx.readFile('manage.py');
  if (manage === undefined) return undefined;
  const settingsModule = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(manage)?.[1];
  if (!settingsModule) return { passedOver: 'manage.py names no DJANGO_SETTINGS_MODULE' };
  const settingsFile = await moduleFile(ctx, settingsModule);
  if (!settingsFile) return { passedOver: `manage.py names settings ${settingsModule}, which has no file in the app directory` };
  // Read as written: the values are strings, which codeOnly() would blank.
  const raw = (await ctx.readFile(settingsFile)) ?? '';
  const setting = (name: string) => new RegExp(`^${name}\\s*=\\s*["']([\\w.]+)["']`, 'm').exec(raw)?.[1];
  const wsgi = setting('WSGI_APPLICATION');
  const asgi = setting('ASGI_APPLICATION');
  return { settingsModule, settingsFile, ...(wsgi ? { wsgiApplication: wsgi } : {}), ...(asgi ? { asgiApplication: asgi } : {}) };
}

/** A Django project's startup file for one interface, or why there is none. */
export async function djangoStartup(ctx: DetectContext, iface: PythonInterface): Promise<AppTypeMatch | { passedOver: string } | undefined> {
  const project = await djangoProject(ctx);
  if (!project || 'passedOver' in project) return project;
  const key = iface === 'wsgi' ? 'WSGI_APPLICATION' : 'ASGI_APPLICATION';
  let dotted = iface === 'wsgi' ? project.wsgiApplication : project.asgiApplication;
  let how = `${key} ${dotted}`;
  if (!dotted) {
    // Django's own project template writes asgi.py next to settings.py but no ASGI_APPLICATION.
    const pkg = project.settingsModule.split('.').slice(0, -1).join('.');
    dotted = `${pkg ? `${pkg}.` : ''}${iface}.application`;
    how = `no ${key} in ${project.settingsFile}, so ${dotted.replace(/\.application$/, '')}.py next to it`;
  }
  const module = dotted.split('.').slice(0, -1).join('.');
  const attr = dotted.split('.').at(-1)!;
  const file = await moduleFile(ctx, module);
  if (!file) return { passedOver: `Django project (${project.settingsFile}): ${how}, but ${module} has no file` };
  if (!CALLABLE_NAMES.includes(attr)) return { passedOver: `Django project: ${key} names \`${attr}\`; the loader serves \`application\` or \`app\`` };
  return {
    appType: iface,
    startupFile: join(ctx.appRoot, file),
    reason: `Django project: manage.py sets DJANGO_SETTINGS_MODULE ${project.settingsModule} (${project.settingsFile}), ${how} -> ${file}`,
  };
}

/** app.py/wsgi.py (Flask) or main.py/app.py (FastAPI, Starlette) creating the app at module level. */
export async function frameworkStartup(ctx: DetectContext, iface: PythonInterface, explicit: boolean): Promise<AppTypeMatch | { passedOver: string } | undefined> {
  const files = iface === 'wsgi' ? ['app.py', 'wsgi.py'] : ['main.py', 'app.py'];
  const passed: string[] = [];
  for (const file of files) {
    const source = await ctx.readFile(file);
    if (source === undefined) continue;
    const creations = frameworkCreations(source);
    const mine = creations.find((c) => c.iface === iface);
    if (!mine) continue;
    // A file showing both interfaces is WSGI unless asgi was asked for.
    if (iface === 'asgi' && !explicit && creations.some((c) => c.iface === 'wsgi')) {
      passed.push(`${file} creates both ${creations.map((c) => c.framework).join(' and ')}; set app_type to asgi to serve it as ASGI`);
      continue;
    }
    if (!CALLABLE_NAMES.includes(mine.name)) {
      passed.push(`${file} creates ${mine.framework}( as \`${mine.name}\`; the loader serves \`application\` or \`app\` (add \`app = ${mine.name}\`)`);
      continue;
    }
    return { appType: iface, startupFile: join(ctx.appRoot, file), reason: `${file} creates a ${mine.framework} app (\`${mine.name} = ${mine.framework}(...)\`)` };
  }
  return passed.length ? { passedOver: passed.join('; ') } : undefined;
}
