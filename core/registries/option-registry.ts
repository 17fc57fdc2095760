// The option registry: names and aliases share one namespace, because each
// name becomes a config key, a PASSENGER_* variable and a --flag. A name
// registered twice, or an alias equal to another option's name or alias, is
// refused at boot, naming both registrants.
import { PassengerError } from '../errors/passenger-error.ts';
import type { OptionDef } from './options.ts';
import { ownerText, Registry } from './registry.ts';

/** snake_case: what maps one-to-one onto PASSENGER_UPPER_CASE and --dashed-flags. */
const NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

export interface ResolvedName {
  def: OptionDef;
  /** Set when the name used was an alias (a deprecated former name). */
  alias?: string;
}

/** What two declarations of a shared option must agree on. */
const SHARED_FIELDS = ['type', 'scope', 'default', 'values', 'min', 'unit'] as const;

export class OptionRegistry extends Registry<OptionDef> {
  /** Every alias -> the option it stands for. */
  readonly #aliases = new Map<string, OptionDef>();
  /** Options plugins read but others register: checked when the registry seals. */
  readonly #uses: { name: string; by: string | undefined }[] = [];

  constructor() { super('option'); }

  override add(item: OptionDef): void {
    const owner = item.owner ?? this.currentOwner;
    const by = ownerText;
    const existing = this.get(item.name);
    if (existing && (item.shared || existing.shared)) return this.#share(existing, item, owner);
    for (const name of [item.name, ...(item.aliases ?? [])]) {
      if (!NAME.test(name)) {
        throw new PassengerError('PSG_ERR_PLUGIN', `option name "${name}" (registered by ${by(owner)}) must be snake_case: lower-case letters, digits and single underscores`, { plugin: owner });
      }
      const asAlias = this.#aliases.get(name);
      const asName = name === item.name ? undefined : this.get(name);
      const clash = asAlias ?? asName;
      if (clash) {
        throw new PassengerError('PSG_ERR_PLUGIN_DUPLICATE',
          `option name "${name}" is registered twice (by ${by(clash.owner)} for option ${clash.name}, and by ${by(owner)} for option ${item.name})`, { plugin: owner });
      }
    }
    if (new Set(item.aliases).size !== (item.aliases ?? []).length || item.aliases?.includes(item.name)) {
      throw new PassengerError('PSG_ERR_PLUGIN_DUPLICATE', `option ${item.name} (registered by ${by(owner)}) lists an alias twice or as its own name`, { plugin: owner });
    }
    // A copy: the kernel fills in owner and usedBy, and a shared definition may be a constant of its plugin.
    super.add({ ...item, ...(owner !== undefined ? { owner } : {}) });
    const stored = this.get(item.name)!;
    for (const alias of item.aliases ?? []) this.#aliases.set(alias, stored);
  }

  /**
   * Declares that the running plugin reads an option another plugin registers
   * (its value is `app.options[name]`). The boot fails, naming both, when no
   * plugin registers it.
   */
  use(name: string): void {
    if (this.sealed) throw new PassengerError('PSG_ERR_PLUGIN', `option "${name}" was declared used after boot; declare it from registerOptions`, { plugin: this.currentOwner });
    this.#uses.push({ name, by: this.currentOwner });
  }

  override seal(): void {
    for (const { name, by } of this.#uses) {
      const def = this.resolve(name)?.def;
      if (!def) {
        throw new PassengerError('PSG_ERR_PLUGIN',
          `plugin ${ownerText(by)} uses option "${name}", which no plugin registers: install and add the plugin that provides it`, { plugin: by });
      }
      if (by !== undefined && by !== def.owner && !def.usedBy?.includes(by)) def.usedBy = [...def.usedBy ?? [], by];
    }
    super.seal();
  }

  #share(existing: OptionDef, item: OptionDef, owner: string | undefined): void {
    const by = ownerText;
    if (!existing.shared || !item.shared) {
      const [notShared, other] = existing.shared ? [owner, existing.owner] : [existing.owner, owner];
      throw new PassengerError('PSG_ERR_PLUGIN_DUPLICATE',
        `option name "${item.name}" is registered twice (by ${by(existing.owner)} and by ${by(owner)}); ${by(notShared)} does not declare it shared, so ${by(other)} may not declare it too (read it with options.use("${item.name}") instead)`, { plugin: owner });
    }
    for (const field of SHARED_FIELDS) {
      if (JSON.stringify(existing[field]) !== JSON.stringify(item[field])) {
        throw new PassengerError('PSG_ERR_PLUGIN_DUPLICATE',
          `shared option "${item.name}" is declared differently by ${by(existing.owner)} and by ${by(owner)}: ${field} is ${JSON.stringify(existing[field])} and ${JSON.stringify(item[field])}`, { plugin: owner });
      }
    }
    if (owner !== undefined && owner !== existing.owner && !existing.usedBy?.includes(owner)) existing.usedBy = [...existing.usedBy ?? [], owner];
  }

  /** The option a name or alias stands for. */
  resolve(name: string): ResolvedName | undefined {
    const def = this.get(name);
    if (def) return { def };
    const aliased = this.#aliases.get(name);
    return aliased && { def: aliased, alias: name };
  }
}
