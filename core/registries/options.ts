/** One configuration option: the single row that drives config files, env vars, CLI flags and docs. */
export interface OptionDef {
  /** snake_case, as in Passengerfile.json; env var PASSENGER_<KEY>, flag --<key-with-dashes>. */
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'object' | 'plugins';
  /** For string options limited to a set of values. */
  values?: readonly string[];
  min?: number;
  default?: unknown;
  /** One line for --help, docs and .passengerrc.example. */
  doc: string;
  /** `instance`: one value for the whole server; `app`: may differ per app. */
  scope: 'instance' | 'app';
  /** A unit shown in docs, e.g. "seconds". */
  unit?: string;
  /** The plugin that registered it first; filled in by the kernel. */
  owner?: string;
  /**
   * Several plugins may declare it (a `python` option for every plugin that runs
   * Python apps): each adds the same definition (type, scope, default, values,
   * min, unit), and the first one's doc is kept. Every declaration must say so.
   */
  shared?: boolean;
  /** The other plugins that declared it (shared) or read it (`options.use(name)`); filled in by the kernel. */
  usedBy?: string[];
  /**
   * Former names, still accepted everywhere the name is (config files,
   * PASSENGER_<ALIAS>, --alias, SCGI parameters) with a deprecation warning.
   * A renamed option keeps its old name here for at least one major version.
   */
  aliases?: readonly string[];
  /** Set when the option itself is on its way out: what to do instead, shown whenever it is used. */
  deprecated?: string;
}
