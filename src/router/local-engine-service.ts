import type { LoadedModelStatus, ModelLibrary, NativeRequest } from "../core/index.js";
import { GatewayError } from "../core/index.js";
import type { PullEvent, PullResult } from "../models/index.js";
import type { Catalog, Target } from "./catalog.js";
import { localModelLibrary } from "./local-model-library.js";
import type { Planner } from "./plan.js";
import { speaksWire } from "./target-fit.js";

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

  /**
   * Loads the model a name stands for (a target, or a route's first target that keeps models) and
   * keeps it loaded. A target whose upstream loads models on a client's own request (ModelLoader, an
   * Ollama server) is sent `native` when it speaks that wire: the upstream loads or unloads the model
   * itself, and its answer is returned. Other remote targets have nothing to load.
   */
  async keepAlive(
    name: string,
    keepAliveMs: number | undefined,
    signal: AbortSignal,
    native?: NativeRequest,
  ): Promise<Record<string, unknown> | undefined> {
    const loads = (t: Target) => t.provider.preload !== undefined || (native !== undefined && loadsNatively(t, native));
    const resolved = this.#catalog.resolve(name);
    const target = resolved.kind === "target" ? resolved.target : this.#planner.plan(resolved.name).tiers.flat().find(loads);
    if (target === undefined) return undefined;
    if (native !== undefined && loadsNatively(target, native)) {
      return target.provider.loadModel?.(native, target.upstreamModel, signal);
    }
    if (target.provider.preload) await target.provider.preload(target.upstreamModel, keepAliveMs, signal);
    return undefined;
  }
}

/** Whether a target's upstream takes the client's own load request: it loads models so, and speaks the wire. */
function loadsNatively(target: Target, native: NativeRequest): boolean {
  return target.provider.loadModel !== undefined && speaksWire(target, native.wire);
}
