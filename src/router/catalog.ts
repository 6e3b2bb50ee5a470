import type { Config, RouteConfig } from "../config/index.js";
import type { ModelEntry, ModelInfo, Provider } from "../core/index.js";
import { GatewayError } from "../core/index.js";
import {
  type ConfiguredModel,
  listsOwnModels,
  type ModelCapabilities,
  type ProviderContext,
} from "../providers/provider-kind.js";
import { createProviderSlot, type ProviderSlot } from "../providers/registry.js";

/** One model on one provider, as clients name it: `provider/model`. */
export interface Target {
  name: string;
  providerName: string;
  provider: Provider;
  /** The model id the upstream knows. */
  upstreamModel: string;
  contextWindow: number | undefined;
  /** Runs on this machine (the embedded engine, or a server on a loopback address). */
  local: boolean;
  /** What the model is configured to do or not (`models.<name>.capabilities`); absent facts are unknown. */
  capabilities?: ModelCapabilities;
}

export type Resolved = { kind: "route"; name: string; route: RouteConfig } | { kind: "target"; target: Target };

const DISCOVERY_TIMEOUT_MS = 5000;
const LIST_LIMIT = 40;

/** Every provider, route and model a client can name, and how each name resolves. */
export class Catalog {
  readonly slots: ReadonlyMap<string, ProviderSlot>;
  readonly routes: ReadonlyMap<string, RouteConfig>;
  /** Models found on upstreams with no configured list; undefined when discovery failed. */
  readonly #discovered = new Map<string, ModelInfo[] | undefined>();
  #createdAt = Math.floor(Date.now() / 1000);
  #generation = 0;

  /** Changes whenever what a name resolves to may have changed (after discovery), so resolutions can be cached. */
  get generation(): number {
    return this.#generation;
  }

  constructor(
    config: Config,
    env: NodeJS.ProcessEnv = process.env,
    hooks: Pick<ProviderContext, "onEngineLog" | "onKeyRotation" | "keySources"> = {},
  ) {
    this.slots = new Map(
      Object.entries(config.providers).map(([name, pc]) => [
        name,
        createProviderSlot(name, pc, { env, dataDir: config.dataDir, limits: config.limits, ...hooks }),
      ]),
    );
    this.routes = new Map(Object.entries(config.routes));
  }

  /** Asks every provider without a configured model list for its models. Never throws. */
  async discover(signal?: AbortSignal, only?: (slot: ProviderSlot) => boolean): Promise<void> {
    await Promise.all(
      [...this.slots.values()].map(async (slot) => {
        if (only && !only(slot)) return;
        if (!slot.provider || configuredModels(slot)) return;
        const timeout = AbortSignal.timeout(DISCOVERY_TIMEOUT_MS);
        try {
          const models = await slot.provider.listModels(signal ? AbortSignal.any([signal, timeout]) : timeout);
          this.#discovered.set(slot.name, models);
        } catch {
          this.#discovered.set(slot.name, undefined);
        }
      }),
    );
    this.#generation++;
  }

  /** Re-reads the local engines' model folders (cheap: no network), e.g. after `tandem models pull`. */
  refreshLocal(): Promise<void> {
    return this.discover(undefined, listsOwnModels);
  }

  /** Resolves a client's model name to a route or a target; throws not_found listing what exists. */
  resolve(name: string): Resolved {
    for (const candidate of nameVariants(name)) {
      const route = this.routes.get(candidate);
      if (route) return { kind: "route", name: candidate, route };
    }
    const slash = name.indexOf("/");
    if (slash > 0) {
      const target = this.target(name.slice(0, slash), name.slice(slash + 1));
      if (target) return { kind: "target", target };
    } else {
      const target = this.#engineModel(name);
      if (target) return { kind: "target", target };
    }
    throw this.#notFound(name);
  }

  /**
   * A local engine's model named as Ollama's clients name theirs, without a provider: `mine` and
   * `mine:latest` are `local/mine` (Ollama's ParseName gives a name without a tag the tag `latest`,
   * on every endpoint), as create, copy and delete already took them. Only a model the engine's
   * folder listed at the last discovery (see Router, which reads it again before a 404); a route of
   * that name wins. The first engine, in config order, that has it.
   */
  #engineModel(name: string): Target | undefined {
    for (const slot of this.slots.values()) {
      if (!slot.provider || !listsOwnModels(slot)) continue;
      const listed = this.#listedVariant(slot, name);
      if (listed) return this.#target(slot, slot.provider, listed.id, listed.id, listed.contextWindow);
    }
    return undefined;
  }

  /** The model a discovered list has under a name or its other `:latest` form (see nameVariants). */
  #listedVariant(slot: ProviderSlot, name: string): ModelInfo | undefined {
    const listed = this.#discovered.get(slot.name);
    if (!listed) return undefined;
    for (const candidate of nameVariants(name)) {
      const info = listed.find((m) => m.id === candidate);
      if (info) return info;
    }
    return undefined;
  }

  /** Resolves `provider/model`; undefined when the model is known not to exist. */
  target(providerName: string, model: string): Target | undefined {
    const slot = this.slots.get(providerName);
    if (!slot) return undefined;
    if (!slot.provider) {
      throw new GatewayError("unavailable", `Provider '${providerName}' is unavailable: ${slot.unavailable}`, {
        target: `${providerName}/${model}`,
        retryable: false,
      });
    }
    const configured = configuredModels(slot);
    if (configured) {
      for (const candidate of nameVariants(model)) {
        const entry = configured[candidate];
        if (entry)
          return this.#target(slot, slot.provider, candidate, entry.id ?? candidate, entry.contextWindow, entry.capabilities);
      }
      return undefined;
    }
    const discovered = this.#discovered.get(slot.name);
    // A local engine reads its folder on every request, so a model pulled since discovery is served
    // (and a wrong name gets the engine's own not_found, listing the installed models).
    if (discovered === undefined || listsOwnModels(slot)) {
      // Discovery failed or has not run: pass the name through and let the upstream judge it. A local
      // model's window is known once its folder was read (so the plan can see what does not fit),
      // and a listed one goes by its listed name (`local/mine:latest` is `local/mine`).
      const listed = this.#listedVariant(slot, model);
      const id = listed?.id ?? model;
      return this.#target(slot, slot.provider, id, id, listed?.contextWindow);
    }
    for (const candidate of nameVariants(model)) {
      const info = discovered.find((m) => m.id === candidate);
      if (info) return this.#target(slot, slot.provider, candidate, info.id, info.contextWindow);
    }
    // A name the upstream's API takes as an alias of a listed id (Anthropic's `claude-sonnet-4-5` for
    // its listed `claude-sonnet-4-5-20250929`) is listed too, and goes upstream as the client named
    // it: the upstream decides what the alias points at, as it does for its own clients.
    const aliased = slot.capabilities.aliasOf?.(
      model,
      discovered.map((m) => m.id),
    );
    if (aliased !== undefined) {
      const info = discovered.find((m) => m.id === aliased);
      return this.#target(slot, slot.provider, model, model, info?.contextWindow);
    }
    return undefined;
  }

  #target(
    slot: ProviderSlot,
    provider: Provider,
    model: string,
    upstreamModel: string,
    contextWindow: number | undefined,
    capabilities?: ModelCapabilities,
  ): Target {
    return {
      name: `${slot.name}/${model}`,
      providerName: slot.name,
      provider,
      upstreamModel,
      contextWindow,
      local: slot.local,
      ...(capabilities !== undefined && { capabilities }),
    };
  }

  /**
   * What a target's tokens cost in US dollars per million, when its config gives a price. Local
   * targets cost nothing.
   */
  priceOf(target: string): { input: number; output: number } | undefined {
    const slash = target.indexOf("/");
    const slot = this.slots.get(target.slice(0, slash));
    if (!slot) return undefined;
    if (slot.capabilities.pricing === "free") return { input: 0, output: 0 };
    return configuredModels(slot)?.[target.slice(slash + 1)]?.price;
  }

  /** Every name a client can use: routes first, then targets. */
  entries(): ModelEntry[] {
    const out: ModelEntry[] = [];
    for (const [name, route] of this.routes) out.push({ name, kind: "route", tiers: route.tiers, created: this.#createdAt });
    for (const slot of this.slots.values()) {
      const base = {
        kind: "target" as const,
        provider: slot.name,
        providerKind: slot.config.kind,
        ...(listsOwnModels(slot) && { engineModel: true }),
      };
      const configured = configuredModels(slot);
      if (configured) {
        for (const [alias, m] of Object.entries(configured)) {
          out.push({
            ...base,
            name: `${slot.name}/${alias}`,
            upstreamModel: m.id ?? alias,
            contextWindow: m.contextWindow,
            created: this.#createdAt,
          });
        }
      } else {
        for (const m of this.#discovered.get(slot.name) ?? []) {
          out.push({
            ...base,
            name: `${slot.name}/${m.id}`,
            upstreamModel: m.id,
            contextWindow: m.contextWindow,
            created: m.created ?? this.#createdAt,
            ...(m.file && { file: m.file }),
          });
        }
      }
    }
    return out;
  }

  /** Names of targets a request could be served by right now (for /ready). */
  usableProviders(): string[] {
    // A local engine with no model file yet cannot answer anything.
    const usable = (s: ProviderSlot) =>
      s.provider !== undefined && (!listsOwnModels(s) || (this.#discovered.get(s.name)?.length ?? 0) > 0);
    return [...this.slots.values()].filter(usable).map((s) => s.name);
  }

  #notFound(name: string): GatewayError {
    const names = this.entries().map((e) => e.name);
    const shown = names.slice(0, LIST_LIMIT).join(", ");
    const more = names.length > LIST_LIMIT ? ` and ${names.length - LIST_LIMIT} more (GET /v1/models lists all)` : "";
    const available =
      names.length > 0
        ? `Available: ${shown}${more}.`
        : "No models are configured: add a provider to the config file (see the README).";
    return new GatewayError("not_found", `The model '${name}' does not exist. ${available}`, { param: "model" });
  }

  async close(): Promise<void> {
    await Promise.all([...this.slots.values()].map((s) => s.provider?.close()));
  }
}

/** The models a provider's config lists; undefined when its list comes from discovery (the engine lists its own). */
function configuredModels(slot: ProviderSlot): Record<string, ConfiguredModel> | undefined {
  return slot.models;
}

/** Ollama clients add or drop `:latest`; accept the name as given first, then the other form. */
export function nameVariants(name: string): string[] {
  if (name.endsWith(":latest")) return [name, name.slice(0, -":latest".length)];
  return [name, `${name}:latest`];
}
