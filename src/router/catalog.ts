import type { Config, RouteConfig } from "../config/index.js";
import type { ModelEntry, ModelInfo, Provider } from "../core/index.js";
import { GatewayError, nameVariants } from "../core/index.js";
import {
  type ConfiguredModel,
  listsOwnModels,
  type ModelCapabilities,
  type ProviderContext,
} from "../providers/provider-kind.js";
import { createProviderSlot, type ProviderSlot } from "../providers/registry.js";
import type { NamedTargets } from "../telemetry/tracked-targets.js";

/** One model on one provider, as clients name it: `provider/model`. */
export interface Target {
  name: string;
  providerName: string;
  provider: Provider;
  /** The model id the upstream knows. */
  upstreamModel: string;
  contextWindow: number | undefined;
  /**
   * The context its model was trained on, when its listing says (ModelInfo.trainedContext): a window
   * a request asks for is run at most this large (see windowFor).
   */
  trainedContext?: number;
  /** Runs on this machine (the embedded engine, or a server on a loopback address). */
  local: boolean;
  /** What the model is configured to do or not (`models.<name>.capabilities`); absent facts are unknown. */
  capabilities?: ModelCapabilities;
}

/** Whether a provider could answer a request now (Catalog.usability). */
export type ProviderUsability = { usable: true } | { usable: false; reason: string };

export type Resolved = { kind: "route"; name: string; route: RouteConfig } | { kind: "target"; target: Target };

const DISCOVERY_TIMEOUT_MS = 5000;
const LIST_LIMIT = 40;

/**
 * Every provider, route and model a client can name, and how each name resolves. As NamedTargets, it
 * tells telemetry which names the configuration and the model lists give (TrackedTargets).
 */
export class Catalog implements NamedTargets {
  readonly slots: ReadonlyMap<string, ProviderSlot>;
  readonly routes: ReadonlyMap<string, RouteConfig>;
  /** Models found on upstreams with no configured list; undefined when discovery failed. */
  readonly #discovered = new Map<string, ModelInfo[] | undefined>();
  /** Why a provider's model list could not be read at the last discovery (a GatewayError's cleaned message). */
  readonly #discoveryFailures = new Map<string, string>();
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
          this.#discoveryFailures.delete(slot.name);
        } catch (err) {
          this.#discovered.set(slot.name, undefined);
          this.#discoveryFailures.set(slot.name, GatewayError.from(err).message);
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
    if (slash > 0 && this.slots.has(name.slice(0, slash))) {
      const target = this.target(name.slice(0, slash), name.slice(slash + 1));
      if (target) return { kind: "target", target };
    } else {
      // A bare name, or one whose first part names no provider: a name a local model was pulled by
      // may have slashes of its own (`hf.co/owner/repo:Q8_0`, `owner/repo:latest`).
      const target = this.#engineModel(name);
      if (target) return { kind: "target", target };
    }
    throw this.#notFound(name);
  }

  /**
   * A local engine's model named as Ollama's clients name theirs, without a provider: `mine` and
   * `mine:latest` are `local/mine` (Ollama's ParseName gives a name without a tag the tag `latest`,
   * on every endpoint), as create, copy and delete already took them; so is a name the model was
   * pulled by, which the engine lists beside its file name (`hf.co/owner/repo:Q8_0`). Only a model the engine's
   * folder listed at the last discovery (see Router, which reads it again before a 404); a route of
   * that name wins. The first engine, in config order, that has it.
   */
  #engineModel(name: string): Target | undefined {
    for (const slot of this.slots.values()) {
      if (!slot.provider || !listsOwnModels(slot)) continue;
      const listed = this.#listedVariant(slot, name);
      if (listed) return this.#target(slot, slot.provider, listed.id, listed.id, listed);
    }
    return undefined;
  }

  /**
   * Whether a target is one its provider lists: always for a provider that does not list its own
   * models; for a local engine, whether its folder held the model (by a name or its `:latest` form)
   * at the last discovery. A model copied in since is passed through by `target` all the same, and
   * until the folder is read again its telemetry, and its breaker, would be the provider's shared
   * `<provider>/other` (TrackedTargets): the Router reads the folder again first.
   */
  listed(target: Target): boolean {
    const slot = this.slots.get(target.providerName);
    if (slot === undefined || !listsOwnModels(slot)) return true;
    return this.#listedVariant(slot, target.upstreamModel) !== undefined;
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
        if (entry) return this.#target(slot, slot.provider, candidate, entry.id ?? candidate, entry, entry.capabilities);
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
      return this.#target(slot, slot.provider, id, id, listed);
    }
    for (const candidate of nameVariants(model)) {
      const info = discovered.find((m) => m.id === candidate);
      if (info) return this.#target(slot, slot.provider, candidate, info.id, info);
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
      return this.#target(slot, slot.provider, model, model, info);
    }
    return undefined;
  }

  #target(
    slot: ProviderSlot,
    provider: Provider,
    model: string,
    upstreamModel: string,
    /** What its listing (or configuration) says of its windows. */
    windows: Pick<ModelInfo, "contextWindow" | "trainedContext"> | undefined,
    capabilities?: ModelCapabilities,
  ): Target {
    return {
      name: `${slot.name}/${model}`,
      providerName: slot.name,
      provider,
      upstreamModel,
      contextWindow: windows?.contextWindow,
      ...(windows?.trainedContext !== undefined && { trainedContext: windows.trainedContext }),
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
            ...(m.trainedContext !== undefined && { trainedContext: m.trainedContext }),
            created: m.created ?? this.#createdAt,
            ...(m.file && { file: m.file }),
            ...(m.upstreamFile && { upstreamFile: m.upstreamFile }),
          });
        }
      }
    }
    return out;
  }

  /**
   * Every target name a provider's model list (configured, discovered, or a local engine's folder)
   * holds or a route's tiers name: tracked by telemetry from the start. Other names a client sends
   * through (a provider whose list could not be read) are tracked only once their upstream answers.
   */
  namedTargets(): ReadonlySet<string> {
    const names = new Set<string>();
    for (const entry of this.entries()) if (entry.kind === "target") names.add(entry.name);
    for (const route of this.routes.values()) for (const tier of route.tiers) for (const name of tier) names.add(name);
    return names;
  }

  hasProvider(name: string): boolean {
    return this.slots.has(name);
  }

  /**
   * Why the provider's model list could not be read at the last discovery, when it could not: its
   * models are then passed to it as named, for it to judge (see target).
   */
  discoveryFailure(providerName: string): string | undefined {
    return this.#discoveryFailures.get(providerName);
  }

  /**
   * What is wrong with a target a route names (`provider/model`), for the banner: the provider is
   * unavailable, or its model list (configured or discovered) has no such model or alias of one, so
   * the route skips it on every request; undefined when it resolves, or when the provider's list
   * could not be read (the name is then tried as it is).
   */
  targetProblem(name: string): string | undefined {
    const slash = name.indexOf("/");
    const providerName = name.slice(0, slash);
    try {
      if (this.target(providerName, name.slice(slash + 1))) return undefined;
    } catch (err) {
      return GatewayError.from(err).message;
    }
    const slot = this.slots.get(providerName);
    const listed = slot?.models ? Object.keys(slot.models) : (this.#discovered.get(providerName) ?? []).map((m) => m.id);
    const shown = listed.slice(0, 8).join(", ");
    const more = listed.length > 8 ? ` and ${listed.length - 8} more` : "";
    return `${providerName} does not list this model (${listed.length === 0 ? "it lists none" : `it lists ${shown}${more}`})`;
  }

  /**
   * Whether each provider could answer a request now, and why not (for /ready, /v1/status and the
   * banner): it must be built (its kind runs in this build), have a key when its config names keys
   * (one of its references resolves; read as a request reads them, so a key set since counts), and,
   * for a local engine, a model file it can read. The reasons name key references, never keys.
   */
  async usability(): Promise<Map<string, ProviderUsability>> {
    const entries = await Promise.all(
      [...this.slots.values()].map(
        async (slot): Promise<[string, ProviderUsability]> => [slot.name, await this.#usability(slot)],
      ),
    );
    return new Map(entries);
  }

  async #usability(slot: ProviderSlot): Promise<ProviderUsability> {
    if (!slot.provider) return { usable: false, reason: slot.unavailable };
    if (listsOwnModels(slot)) {
      // Read again when it has nothing to serve: a model copied into its folder since counts.
      if (!this.#servesAFile(slot)) await this.discover(undefined, (s) => s === slot);
      if (!this.#servesAFile(slot)) {
        const names = (this.#discovered.get(slot.name) ?? []).map((m) => m.id);
        return {
          usable: false,
          reason:
            names.length === 0
              ? "no local model is installed (run `tandem models pull`)"
              : `no model file it lists can be read (${names.join(", ")})`,
        };
      }
      return { usable: true };
    }
    try {
      await slot.keys.all(slot.name);
    } catch (err) {
      return { usable: false, reason: GatewayError.from(err).message };
    }
    return { usable: true };
  }

  /** Whether a local engine's last listing has a model whose file it could read (a configured path may name none). */
  #servesAFile(slot: ProviderSlot): boolean {
    return (this.#discovered.get(slot.name) ?? []).some((m) => m.file !== undefined);
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
