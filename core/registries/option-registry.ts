// The option registry: names and aliases share one namespace, because each
// name becomes a config key, a PASSENGER_* variable and a --flag. A name
// registered twice, or an alias equal to another option's name or alias, is
// refused at boot, naming both registrants.
import { PassengerError } from '../errors/passenger-error.ts';
import type { OptionDef } from './options.ts';
import { Registry } from './registry.ts';

/** snake_case: what maps one-to-one onto PASSENGER_UPPER_CASE and --dashed-flags. */
const NAME = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

export interface ResolvedName {
  def: OptionDef;
  /** Set when the name used was an alias (a deprecated former name). */
  alias?: string;
}

export class OptionRegistry extends Registry<OptionDef> {
  /** Every alias -> the option it stands for. */
  readonly #aliases = new Map<string, OptionDef>();

  constructor() { super('option'); }

  override add(item: OptionDef): void {
    const owner = item.owner ?? this.currentOwner;
    const by = (o: string | undefined) => o ?? 'the core';
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
    super.add(item);
    const stored = this.get(item.name)!;
    for (const alias of item.aliases ?? []) this.#aliases.set(alias, stored);
  }

  /** The option a name or alias stands for. */
  resolve(name: string): ResolvedName | undefined {
    const def = this.get(name);
    if (def) return { def };
    const aliased = this.#aliases.get(name);
    return aliased && { def: aliased, alias: name };
  }
}
