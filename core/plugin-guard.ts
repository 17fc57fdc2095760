// Wraps every tap so that its failures name the plugin and the hook, hung
// async taps time out by name, and notification or enrichment taps can never
// break the core. One `register` interceptor per hook.
import type { Hook, Tap } from 'tapable';
import { PassengerError, isPassengerError } from './errors/passenger-error.ts';
import type { Logger } from './log/logger.ts';

export type GuardMode =
  /** Errors are tagged and rethrown. */
  | 'rethrow'
  /** Errors are logged; the tap's first argument is passed on (waterfalls) or nothing happens (notifications). */
  | 'skip';

export interface GuardOptions {
  mode: GuardMode;
  /** Deadline for async taps, in ms (0: none). */
  timeoutMs: number;
}

function tagError(e: unknown, plugin: string, hook: string): PassengerError {
  if (isPassengerError(e) && e.details.plugin === plugin && e.details.hook === hook) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new PassengerError('PSG_ERR_PLUGIN', `plugin ${plugin} failed in hook ${hook}: ${message}`,
    { plugin, hook, pluginCode: (e as { code?: unknown })?.code }, { cause: e });
}

function withTimeout<T>(p: Promise<T>, ms: number, plugin: string, hook: string): Promise<T> {
  if (ms <= 0) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PassengerError('PSG_ERR_PLUGIN_TIMEOUT',
      `plugin ${plugin} did not finish hook ${hook} within ${ms} ms`, { plugin, hook })), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// tapable's typings describe taps loosely; the wrapper keeps the call shape.
type AnyFn = (...args: unknown[]) => unknown;

export function guardHook(hook: Hook<unknown[], unknown>, hookName: string, opts: GuardOptions, log: Logger): void {
  // tapable counts interceptors as use, so every guarded hook would look tapped. This one
  // only rewrites taps as they register and adds nothing to a call: only taps count.
  hook.isUsed = () => hook.taps.length > 0;
  // The argument names the hook was declared with (tapable keeps them as _args).
  const arity = (hook as unknown as { _args?: unknown[] })._args?.length ?? Infinity;
  hook.intercept({
    register(tap: Tap & { fn: Function; type: 'sync' | 'async' | 'promise' }) {
      const original = tap.fn as AnyFn;
      const plugin = tap.name;
      const onError = (e: unknown, args: unknown[]) => {
        const err = tagError(e, plugin, hookName);
        if (opts.mode === 'rethrow') throw err;
        log.error(err.message);
        return args[0];
      };
      if (tap.type === 'promise') {
        tap.fn = (...args: unknown[]) =>
          withTimeout(Promise.resolve().then(() => original(...args)), opts.timeoutMs, plugin, hookName)
            .catch((e) => onError(e, args));
      } else if (tap.type === 'async') {
        tap.fn = (...args: unknown[]) => {
          const cb = args.pop() as (err?: unknown, result?: unknown) => void;
          original(...args, (err: unknown, result: unknown) => {
            if (err) {
              try { cb(null, onError(err, args)); } catch (tagged) { cb(tagged); }
            } else cb(null, result);
          });
        };
      } else {
        // Hooks of up to two arguments get a fixed-arity wrapper: a rest parameter would build
        // an array on every call, and requestStarted/requestFinished are called per request.
        tap.fn = arity <= 2
          ? (a: unknown, b: unknown) => {
            try { return original(a, b); } catch (e) { return onError(e, [a, b]); }
          }
          : (...args: unknown[]) => {
            try { return original(...args); } catch (e) { return onError(e, args); }
          };
      }
      return tap;
    },
  });
}
