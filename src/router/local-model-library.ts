import type { ModelLibrary } from "../core/index.js";
import { GatewayError } from "../core/index.js";
import type { CreateModelRequest } from "../models/index.js";
import type { Provider } from "../providers/provider.js";
import type { Catalog } from "./catalog.js";

type LocalEngine = Required<
  Pick<Provider, "deleteModel" | "copyModel" | "createModel" | "hasBlob" | "putBlob" | "modelSettings">
>;

/**
 * The model library of the first local engine, as the Gateway exposes it: names as clients send
 * them (`local/<name>`, or a bare `<name>` meaning the engine's), and the catalog refreshed after
 * every change so a new model is served at once.
 */
export function localModelLibrary(catalog: Catalog): ModelLibrary {
  const slot = [...catalog.slots.values()].find((s) => s.provider?.createModel);
  const provider = slot?.provider as (Provider & LocalEngine) | undefined;
  if (!slot || !provider) {
    throw new GatewayError("unavailable", "No local engine is configured: add a provider of kind llamacpp to keep models in.", {
      retryable: false,
    });
  }
  const prefix = `${slot.name}/`;

  /** The engine's name for a model a client names; invalid_request when the name means something else. */
  const existing = (name: string): string => {
    if (name.startsWith(prefix)) return name.slice(prefix.length);
    let resolved: ReturnType<Catalog["resolve"]> | undefined;
    try {
      resolved = catalog.resolve(name);
    } catch {
      // Not a route or another provider's target: Ollama's clients send bare names.
      return name;
    }
    if (resolved.kind === "target" && resolved.target.providerName === slot.name) return resolved.target.upstreamModel;
    throw new GatewayError(
      "invalid_request",
      `'${name}' is ${resolved.kind === "route" ? "a route" : `served by ${resolved.target.providerName}`}, not a local model: only models in ${slot.name}/ can be changed here`,
      { param: "model" },
    );
  };
  /** The engine's name for a model about to be made. */
  const fresh = (name: string): string => (name.startsWith(prefix) ? name.slice(prefix.length) : name);

  return {
    async delete(name) {
      await provider.deleteModel(existing(name));
      await catalog.refreshLocal();
    },
    async copy(source, destination) {
      const made = await provider.copyModel(existing(source), fresh(destination));
      await catalog.refreshLocal();
      return prefix + made;
    },
    async create(request: CreateModelRequest, onStatus, signal) {
      const made = await provider.createModel(
        { ...request, name: fresh(request.name), ...(request.from !== undefined && { from: existing(request.from) }) },
        onStatus,
        signal,
      );
      await catalog.refreshLocal();
      return prefix + made;
    },
    hasBlob: (digest) => provider.hasBlob(digest),
    putBlob: (digest, body, signal) => provider.putBlob(digest, body, signal),
    settings: (name) => provider.modelSettings(existing(name)),
  };
}
