/**
 * How many names per provider telemetry tracks beyond those the configuration and the provider's model
 * list give: names a client chose that went to the upstream as given (a provider whose model list could
 * not be read, a local model installed since its folder was last read) and that the upstream answered.
 */
export const DYNAMIC_TARGETS_PER_PROVIDER = 20;

/** The name a provider's untracked targets share in /metrics, /v1/status, the breakers and the usage table. */
export function untrackedName(provider: string): string {
  return `${provider}/other`;
}

/** The target names the configuration and the providers' model lists give (the Catalog). */
export interface NamedTargets {
  /** Changes whenever `namedTargets()` may have changed (a model list was read again). */
  readonly generation: number;
  /** Every target a provider's configured or discovered model list holds, or a route's tiers name. */
  namedTargets(): ReadonlySet<string>;
  /** Whether a provider of this name is configured. */
  hasProvider(name: string): boolean;
}

/**
 * Which target names telemetry keeps state for (metric series, /v1/status lines, breakers, stats, usage
 * rows), so that their number is bounded by the configuration, never by the names clients send. A
 * target the configuration or a model list names is tracked from the start. Any other name is tracked
 * once its upstream has begun answering it (admit: the upstream took the model), up to
 * DYNAMIC_TARGETS_PER_PROVIDER per provider, kept while tandem runs; until then, and for every name past
 * that cap (and every name an upstream refused), its state is its provider's `<provider>/other`. A
 * name with no configured provider is tandem's own (`tandem/notice`) and passes as it is.
 */
export class TrackedTargets {
  readonly #named: NamedTargets | undefined;
  readonly #limit: number;
  /** Per provider, the names tracked because their upstream answered them. */
  readonly #admitted = new Map<string, Set<string>>();
  #cache: { generation: number; names: ReadonlySet<string> } | undefined;

  /** Without `named`, every name is tracked as it is (for a router's parts tested alone). */
  constructor(named?: NamedTargets, limit = DYNAMIC_TARGETS_PER_PROVIDER) {
    this.#named = named;
    this.#limit = limit;
  }

  /** The name a target's state is kept under: its own when tracked, else its provider's untracked name. */
  name(target: string): string {
    const provider = this.#provider(target);
    if (provider === undefined || this.#tracks(provider, target)) return target;
    return untrackedName(provider);
  }

  /**
   * The upstream began answering `target`: it takes that model, so the name is tracked from now on
   * (while its provider has room for another; past that, it stays with the provider's other names).
   */
  admit(target: string): void {
    const provider = this.#provider(target);
    if (provider === undefined || target === untrackedName(provider) || this.#tracks(provider, target)) return;
    let admitted = this.#admitted.get(provider);
    if (admitted === undefined) {
      admitted = new Set();
      this.#admitted.set(provider, admitted);
    }
    if (admitted.size < this.#limit) admitted.add(target);
  }

  /** The configured provider of a target name; undefined for a name whose state is kept as it is. */
  #provider(target: string): string | undefined {
    const named = this.#named;
    if (named === undefined) return undefined;
    const slash = target.indexOf("/");
    const provider = slash > 0 ? target.slice(0, slash) : undefined;
    return provider !== undefined && named.hasProvider(provider) ? provider : undefined;
  }

  #tracks(provider: string, target: string): boolean {
    return this.#namedTargets().has(target) || this.#admitted.get(provider)?.has(target) === true;
  }

  #namedTargets(): ReadonlySet<string> {
    const named = this.#named as NamedTargets;
    if (this.#cache?.generation !== named.generation) {
      this.#cache = { generation: named.generation, names: named.namedTargets() };
    }
    return this.#cache.names;
  }
}
