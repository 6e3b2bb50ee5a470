import { createHash } from "node:crypto";
import type { LoadedModelStatus } from "../../providers/llamacpp/index.js";
import type { ModelEntry } from "../../router/gateway.js";

/**
 * Go's zero time, which Ollama itself writes for a time it does not know. Used as `modified_at`
 * when the target does not say when its model was created.
 */
const UNKNOWN_TIME = "0001-01-01T00:00:00Z";

export interface OllamaModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

/**
 * What tandem knows of a model, in Ollama's `details` shape. Targets are not files on this disk,
 * so sizes and quantization are unknown (empty); `format` is `gguf` for the local engine and
 * `remote` otherwise; `family` is the provider kind (`openai`, `anthropic`, `ollama`, `llamacpp`)
 * or `route`, so a client can still group what it lists.
 */
export function ollamaModelDetails(entry: ModelEntry): OllamaModelDetails {
  const family = entry.kind === "route" ? "route" : (entry.providerKind ?? "remote");
  return {
    parent_model: "",
    format: entry.providerKind === "llamacpp" ? "gguf" : "remote",
    family,
    families: [family],
    parameter_size: "",
    quantization_level: "",
  };
}

/** One entry of GET /api/tags. */
export function renderOllamaTagsEntry(entry: ModelEntry) {
  return {
    name: entry.name,
    model: entry.name,
    modified_at: modifiedAt(entry),
    // No weights on this disk for a routed name; 0 is the honest size.
    size: 0,
    // A stable id for the name (clients dedupe and cache on digest), not a hash of any weights.
    digest: createHash("sha256").update(entry.name).digest("hex"),
    details: ollamaModelDetails(entry),
  };
}

/**
 * POST /api/show. `capabilities` is what Ollama clients check before offering tools or
 * embeddings: embedding models are recognised by name (nothing else says so yet), everything else
 * is offered completion and tools, which every target kind can serve.
 */
export function renderOllamaShow(entry: ModelEntry) {
  const details = ollamaModelDetails(entry);
  const isEmbedding = /embed/i.test(entry.upstreamModel ?? entry.name);
  const modelInfo: Record<string, unknown> = { "general.architecture": details.family };
  if (entry.contextWindow !== undefined) modelInfo[`${details.family}.context_length`] = entry.contextWindow;
  return {
    modelfile: modelfileOf(entry),
    parameters: "",
    template: "",
    details,
    model_info: modelInfo,
    capabilities: isEmbedding ? ["embedding"] : ["completion", "tools"],
    modified_at: modifiedAt(entry),
  };
}

function modelfileOf(entry: ModelEntry): string {
  if (entry.kind === "route") {
    const tiers = (entry.tiers ?? []).map((tier, i) => `# tier ${i + 1}: ${tier.join(", ")}`);
    return [`# ${entry.name} is a tandem route`, ...tiers].join("\n") + "\n";
  }
  return `# ${entry.name} is served by tandem (provider ${entry.provider ?? "?"})\nFROM ${entry.upstreamModel ?? entry.name}\n`;
}

function modifiedAt(entry: ModelEntry): string {
  return entry.created === undefined ? UNKNOWN_TIME : new Date(entry.created * 1000).toISOString();
}

/** What Ollama writes as the expiry of a model kept loaded forever (keep_alive -1). */
const NEVER = "2318-01-01T00:00:00Z";

/** One entry of GET /api/ps: a model the local engine holds in memory (CPU only: size_vram 0). */
export function renderOllamaPsEntry(model: LoadedModelStatus) {
  return {
    name: model.target,
    model: model.target,
    size: model.modelBytes,
    digest: createHash("sha256").update(model.path).digest("hex"),
    details: {
      parent_model: "",
      format: "gguf",
      family: model.architecture,
      families: [model.architecture],
      parameter_size: "",
      quantization_level: model.quantization ?? "",
    },
    expires_at: model.expiresAt ?? NEVER,
    size_vram: 0,
    context_length: model.contextSize,
  };
}
