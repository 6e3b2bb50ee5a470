/** How long something learned of a model from its upstream's answers is remembered (an upstream may change its mind). */
export const REMEMBERED_MS = 60 * 60 * 1000;
/** Models remembered per provider and kind of lesson; past it, the oldest model is forgotten. */
export const MAX_REMEMBERED_MODELS = 256;

/**
 * Upstream models one fact was learned of (such as: this model refuses function tools beside a
 * reasoning effort on chat completions), each for REMEMBERED_MS, at most MAX_REMEMBERED_MODELS at
 * once; bounded as RefusedSettings is, so a client naming ever new models cannot grow it.
 */
export class RememberedModels {
  /** Model id -> until when it is remembered. */
  readonly #until = new Map<string, number>();

  has(model: string): boolean {
    const until = this.#until.get(model);
    if (until === undefined) return false;
    if (until >= Date.now()) return true;
    this.#until.delete(model);
    return false;
  }

  add(model: string): void {
    // Re-added last, so the oldest entry is the one forgotten first.
    this.#until.delete(model);
    if (this.#until.size >= MAX_REMEMBERED_MODELS) this.#until.delete(this.#until.keys().next().value as string);
    this.#until.set(model, Date.now() + REMEMBERED_MS);
  }
}
