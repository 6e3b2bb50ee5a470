import type { LoadedModelStatus, ModelLibrary } from "../core/index.js";
import { GatewayError } from "../core/index.js";
import type { PullEvent, PullResult } from "../models/index.js";
import type { Catalog } from "./catalog.js";
import { localModelLibrary } from "./local-model-library.js";
import type { Planner } from "./plan.js";

/**
 * What the gateway offers for the local engine beyond chat and embeddings: the models it holds
 * loaded, pulling a model into it, keeping one loaded, and its model library (delete, copy, create).
 * Asked of providers by capability (the optional local-engine methods), never by kind.
 */
export class LocalEngineService {
  readonly #catalog: Catalog;
  readonly #planner: Planner;

  constructor(catalog: Catalog, planner: Planner) {
    this.#catalog = catalog;
    this.#planner = planner;
  }

  loadedModels(): LoadedModelStatus[] {
    return [...this.#catalog.slots.values()].flatMap((slot) => slot.provider?.loadedModels?.() ?? []);
  }

  async pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult> {
    const slot = [...this.#catalog.slots.values()].find((s) => s.provider?.pull);
    if (!slot?.provider?.pull) {
      throw new GatewayError(
        "unavailable",
        "No local engine is configured: add a provider of kind llamacpp to pull models into.",
        {
          retryable: false,
        },
      );
    }
    const prefix = `${slot.name}/`;
    const result = await slot.provider.pull(
      reference.startsWith(prefix) ? reference.slice(prefix.length) : reference,
      onEvent,
      signal,
    );
    // The new model becomes a target at once.
    await this.#catalog.refreshLocal();
    return result;
  }

  modelLibrary(): ModelLibrary {
    return localModelLibrary(this.#catalog);
  }

  /** Loads the model a name stands for (a target, or a route's first target that can be preloaded) and keeps it loaded. */
  async keepAlive(name: string, keepAliveMs: number | undefined, signal: AbortSignal): Promise<void> {
    const resolved = this.#catalog.resolve(name);
    const target =
      resolved.kind === "target"
        ? resolved.target
        : this.#planner
            .plan(resolved.name)
            .tiers.flat()
            .find((t) => t.provider.preload);
    if (target?.provider.preload) await target.provider.preload(target.upstreamModel, keepAliveMs, signal);
  }
}
