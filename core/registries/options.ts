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
  /** The plugin that registered it; filled in by the kernel. */
  owner?: string;
}
