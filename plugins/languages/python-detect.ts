// The detectors of the wsgi and asgi plugins. Explicit startup files
// (passenger_wsgi.py, passenger_asgi.py, a configured startup_file) are
// answered at the normal stage, like every other app type's; the zero-config
// layouts (Django, Flask, FastAPI/Starlette) only at Stage.late, after every
// plugin had its say about files made for it.
import { extname, isAbsolute, join } from 'node:path';
import type { AppTypeMatch, DetectContext } from '../../core/index.ts';
import { PassengerError } from '../../core/index.ts';
import { definesCallable, djangoStartup, frameworkStartup, showsAsgi, showsWsgi, type PythonInterface } from './python-layouts.ts';

export const STARTUP_FILES: Record<PythonInterface, string[]> = {
  wsgi: ['passenger_wsgi.py'],
  asgi: ['passenger_asgi.py', 'asgi.py'],
};

export const LOOKED_FOR: Record<PythonInterface, string> = {
  wsgi: 'passenger_wsgi.py, a Django project (manage.py), or app.py/wsgi.py creating Flask(',
  asgi: 'passenger_asgi.py, asgi.py defining application or app, or main.py/app.py creating FastAPI( or Starlette(',
};

export const DISPLAY_NAMES: Record<PythonInterface, string> = { wsgi: 'Python (WSGI)', asgi: 'Python (ASGI)' };

/** A configured startup file's interface, read from its source: the other one only when it shows that one alone. */
async function configuredInterface(ctx: DetectContext, file: string): Promise<PythonInterface | undefined> {
  if (extname(file) !== '.py' && extname(file) !== '.wsgi') return undefined;
  const source = (await ctx.readFile(file)) ?? '';
  const asgi = showsAsgi(source);
  return asgi && !showsWsgi(source) ? 'asgi' : 'wsgi';
}

/** The normal-stage detector: a configured startup file, or a startup file made for this interface. */
export function detectExplicit(iface: PythonInterface) {
  return async (ctx: DetectContext): Promise<AppTypeMatch | undefined> => {
    const requested = ctx.options.app_type as string | undefined;
    if (requested !== undefined && requested !== iface) return undefined;
    const abs = (f: string) => (isAbsolute(f) ? f : join(ctx.appRoot, f));
    const configured = ctx.options.startup_file;
    if (typeof configured === 'string') {
      if (requested === iface) return { appType: iface, startupFile: abs(configured), reason: `startup_file is ${configured}` };
      if ((await configuredInterface(ctx, configured)) !== iface) return undefined;
      return { appType: iface, startupFile: abs(configured), reason: `startup_file is ${configured}${iface === 'asgi' ? ', whose source shows an ASGI app' : ''}` };
    }
    for (const file of STARTUP_FILES[iface]) {
      const source = await ctx.readFile(file);
      if (source === undefined) continue;
      let why = `found ${file}`;
      if (file === 'asgi.py') {
        // asgi.py is also the name of other modules (Django's sits in the project package): ours only with a callable.
        const callable = definesCallable(source);
        if (!callable) {
          ctx.nearMiss(`found asgi.py, but it defines no \`application\` or \`app\` (rename the callable, or set startup_file) (${DISPLAY_NAMES.asgi})`);
          continue;
        }
        why += `, which defines \`${callable}\``;
      }
      return { appType: iface, startupFile: abs(file), reason: requested ? `app_type is ${iface}; ${why}` : why };
    }
    return undefined;
  };
}

/** The late-stage detector: the common layouts, then (with app_type) the default startup file or why none fits. */
export function detectLayouts(iface: PythonInterface) {
  return async (ctx: DetectContext): Promise<AppTypeMatch | undefined> => {
    const requested = ctx.options.app_type as string | undefined;
    if (requested !== undefined && requested !== iface) return undefined;
    const explicit = requested === iface;
    const notes: string[] = [];
    // Django serves WSGI unless asgi is asked for (its default settings name only WSGI_APPLICATION).
    const tries = iface === 'wsgi' || explicit ? [() => djangoStartup(ctx, iface), () => frameworkStartup(ctx, iface, explicit)] : [() => frameworkStartup(ctx, iface, explicit)];
    for (const attempt of tries) {
      const found = await attempt();
      if (found && 'appType' in found) return explicit ? { ...found, reason: `app_type is ${iface}; ${found.reason}` } : found;
      if (found) notes.push(found.passedOver);
    }
    if (!explicit) {
      // Not ours after all; if nothing else claims the directory, the error says what was found and why it did not fit.
      for (const note of notes) ctx.nearMiss(`${note} (${DISPLAY_NAMES[iface]})`);
      return undefined;
    }
    if (notes.length) {
      throw new PassengerError('PSG_ERR_DETECT_NO_MATCH', `app_type is ${iface}, but no startup file fits: ${notes.join('; ')}; or set startup_file`, { appRoot: ctx.appRoot });
    }
    const file = STARTUP_FILES[iface][0]!;
    return { appType: iface, startupFile: join(ctx.appRoot, file), reason: `app_type is ${iface} (no ${LOOKED_FOR[iface]} found; expecting ${file})` };
  };
}
