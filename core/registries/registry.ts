import { PassengerError } from '../errors/passenger-error.ts';

/** The built-in plugin that registers the core's own options and protocols (core/core-plugin.ts). */
export const CORE_PLUGIN_NAME = 'passenger:core';

/** Who registered something, for messages: a plugin's name, or "the core". */
export function ownerText(owner: string | undefined): string {
  return owner === undefined || owner === CORE_PLUGIN_NAME ? 'the core' : owner;
}

/** A named set that plugins add to at boot; sealed (read-only) afterwards. */
export class Registry<T extends { name: string; owner?: string }> {
  readonly #kind: string;
  readonly #items = new Map<string, T>();
  #sealed = false;
  #currentOwner: string | undefined;

  constructor(kind: string) { this.#kind = kind; }

  /** Set by the kernel while a plugin's register tap runs. */
  setCurrentOwner(owner: string | undefined): void { this.#currentOwner = owner; }

  /** The plugin whose register tap is running (undefined: the core). */
  protected get currentOwner(): string | undefined { return this.#currentOwner; }

  protected get kind(): string { return this.#kind; }

  protected get sealed(): boolean { return this.#sealed; }

  add(item: T): void {
    if (item.owner === undefined && this.#currentOwner !== undefined) item = { ...item, owner: this.#currentOwner };
    if (this.#sealed) {
      throw new PassengerError('PSG_ERR_PLUGIN', `${this.#kind} "${item.name}" was added after boot; add it from a register hook`, { plugin: item.owner });
    }
    const existing = this.#items.get(item.name);
    if (existing) {
      throw new PassengerError('PSG_ERR_PLUGIN_DUPLICATE',
        `${this.#kind} "${item.name}" is registered twice (by ${ownerText(existing.owner)} and by ${ownerText(item.owner)})`,
        { plugin: item.owner });
    }
    this.#items.set(item.name, item);
  }

  get(name: string): T | undefined { return this.#items.get(name); }
  has(name: string): boolean { return this.#items.has(name); }
  list(): T[] { return [...this.#items.values()]; }
  seal(): void { this.#sealed = true; }
}
