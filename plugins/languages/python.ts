// What every plugin for Python apps shares: the `python` option (declared
// shared, so WSGI and ASGI plugins both declare it) and how the interpreter is
// chosen: the option, else a virtualenv in the app, else python3.
import { chooseInterpreter, type AppSpec, type OptionDef } from '../../core/index.ts';

export const VIRTUALENVS = ['.venv', 'venv'] as const;

/** Add it from registerOptions in every plugin that runs Python apps: `r.add(pythonOption)`. */
export const pythonOption: Readonly<OptionDef> = Object.freeze({
  name: 'python', type: 'string', scope: 'app', shared: true,
  doc: 'the Python interpreter for Python apps: a command or a path (default: .venv/ or venv/ in the app, else python3)',
});

/** The options pythonOption adds, for definePlugin<PythonOptions>. */
export interface PythonOptions { python?: string }

/** The interpreter for an app, and why it was chosen. */
export async function choosePython(app: AppSpec): Promise<{ python: string; reason: string }> {
  const { command, reason } = await chooseInterpreter(app, {
    option: 'python',
    inApp: VIRTUALENVS.map((dir) => ({ path: `${dir}/bin/python`, reason: `virtualenv ${dir}/ in the app directory` })),
    fallback: 'python3',
    fallbackReason: 'default (no python option, no .venv/ or venv/)',
  });
  return { python: command, reason };
}
