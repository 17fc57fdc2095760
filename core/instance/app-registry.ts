// Which AppSpec a request is for. The built-in HTTP engine serves the app
// named on the command line; SCGI requests name theirs with
// PASSENGER_APP_ROOT and may set app options with PASSENGER_<OPTION>
// parameters (the highest layer). Resolving reads the app's config file and
// runs detection, so results are cached per app root and parameters; a
// failure is cached briefly so a broken app is not re-detected per request.
import type { Kernel } from '../kernel.ts';
import type { AppSpec } from '../config/app-spec.ts';
import type { Layer } from '../config/merge.ts';
import { envVarName } from '../config/merge.ts';
import { resolveAppSpec } from '../config/resolve-app.ts';
import { PassengerError } from '../errors/passenger-error.ts';

const FAILURE_TTL_MS = 2000;
const APP_ROOT_PARAM = 'PASSENGER_APP_ROOT';

interface CacheEntry {
  spec: Promise<AppSpec>;
  failedAt?: number;
}

export class AppRegistry {
  readonly #kernel: Kernel;
  readonly #env: NodeJS.ProcessEnv;
  /** Command-line flags that apply to every app: only instance-wide ones (the rest were meant for the command-line app). */
  readonly #instanceFlags: Layer;
  readonly #cache = new Map<string, CacheEntry>();
  /** The layers each app root was first resolved with, for re-reading its configuration on restart. */
  readonly #layersByRoot = new Map<string, { layers: Layer[]; frontEnd: AppSpec['frontEnd'] }>();
  readonly #onNewApp: (spec: AppSpec) => void;
  /** PASSENGER_<OPTION> -> option name, for app-scoped options only. */
  readonly #scgiOptions: Map<string, string>;

  constructor(kernel: Kernel, env: NodeJS.ProcessEnv, flagLayer: Layer, onNewApp: (spec: AppSpec) => void) {
    this.#kernel = kernel;
    this.#env = env;
    this.#onNewApp = onNewApp;
    const defs = kernel.options.list();
    this.#instanceFlags = { ...flagLayer, values: Object.fromEntries(Object.entries(flagLayer.values).filter(([k]) => kernel.options.resolve(k)?.def.scope === 'instance')) };
    // Former names (aliases) too: mergeOptions maps them and warns.
    this.#scgiOptions = new Map(defs.filter((d) => d.scope === 'app').flatMap((d) => [d.name, ...(d.aliases ?? [])].map((n) => [envVarName(n), n] as const)));
  }

  /** Records the command-line app, resolved at boot with all flags. */
  registerCommandLineApp(spec: AppSpec, layers: Layer[]): void {
    this.#remember(spec, layers);
  }

  /** The app for an SCGI request. */
  forScgi(params: ReadonlyMap<string, string>): Promise<AppSpec> {
    const root = params.get(APP_ROOT_PARAM);
    if (!root) {
      return Promise.reject(new PassengerError('PSG_ERR_SCGI_NO_APP',
        `the SCGI request has no ${APP_ROOT_PARAM} parameter: add "scgi_param ${APP_ROOT_PARAM} /path/to/app;" to the nginx configuration (see passenger nginx-config)`));
    }
    const values: Record<string, string> = {};
    for (const [name, value] of params) {
      if (!name.startsWith('PASSENGER_') || name === APP_ROOT_PARAM) continue;
      const option = this.#scgiOptions.get(name);
      // Unknown and instance-wide names are ignored: one front-end config line must not break every request.
      if (option !== undefined && value !== '') values[option] = value;
    }
    const key = `${root}\0${Object.entries(values).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join('\0')}`;
    const hit = this.#cache.get(key);
    if (hit && (hit.failedAt === undefined || Date.now() - hit.failedAt < FAILURE_TTL_MS)) return hit.spec;
    const layers: Layer[] = [this.#instanceFlags, { kind: 'scgi', values, asText: true }];
    // Apps named by the web server run as the owner of their startup file, never as root (prepare.ts).
    const entry: CacheEntry = { spec: resolveAppSpec(this.#kernel, { appRoot: root, env: this.#env, layers }).then((s) => {
      for (const d of s.deprecations ?? []) this.#kernel.log.warn(`${s.appRoot}: ${d}`);
      return { ...s, frontEnd: 'scgi' as const };
    }) };
    entry.spec.then((spec) => this.#remember(spec, layers), () => { entry.failedAt = Date.now(); });
    this.#cache.set(key, entry);
    return entry.spec;
  }

  /** Re-reads an app's configuration (restart), with the layers it was first resolved with. */
  async refresh(appRoot: string): Promise<AppSpec> {
    const known = this.#layersByRoot.get(appRoot);
    const resolved = await resolveAppSpec(this.#kernel, { appRoot, env: this.#env, layers: known?.layers ?? [this.#instanceFlags] });
    const spec = known?.frontEnd ? { ...resolved, frontEnd: known.frontEnd } : resolved;
    // Later SCGI requests see the new configuration too (resolving again is cheap and rare).
    this.#cache.clear();
    return spec;
  }

  get appRoots(): string[] { return [...this.#layersByRoot.keys()]; }

  #remember(spec: AppSpec, layers: Layer[]): void {
    if (this.#layersByRoot.has(spec.appRoot)) return;
    this.#layersByRoot.set(spec.appRoot, { layers, frontEnd: spec.frontEnd });
    this.#onNewApp(spec);
  }
}
