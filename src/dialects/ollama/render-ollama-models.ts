import { createHash } from "node:crypto";
import type { LoadedModel, ModelEntry } from "../../core/index.js";
import { type ModelSettings, renderModelfile, renderParameters } from "../../models/index.js";

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
 * What tandem knows of a model, in Ollama's `details` shape. A local model's GGUF says what Ollama
 * reads from it: `format` gguf, `family` its architecture (`llama`, `qwen2`), its quantization (as
 * /api/ps shows them). A remote target is no file on this disk, so its quantization is unknown
 * (empty), `format` is `remote`, and `family` the provider kind (`openai`, `anthropic`, `ollama`) or
 * `route`, so a client can still group what it lists; but a model an upstream keeps a file of (an
 * Ollama server's) has what that upstream's list says of it, field by field (UpstreamModelFile).
 */
export function ollamaModelDetails(entry: ModelEntry): OllamaModelDetails {
  const upstream = entry.upstreamFile;
  const family =
    entry.file?.architecture ?? upstream?.family ?? (entry.kind === "route" ? "route" : (entry.providerKind ?? "remote"));
  return {
    parent_model: upstream?.parentModel ?? "",
    format: entry.engineModel === true ? "gguf" : (upstream?.format ?? "remote"),
    family,
    families: upstream?.families ?? [family],
    parameter_size: upstream?.parameterSize ?? "",
    quantization_level: entry.file?.quantization ?? upstream?.quantization ?? "",
  };
}

/** One entry of GET /api/tags. */
export function renderOllamaTagsEntry(entry: ModelEntry) {
  return {
    name: entry.name,
    model: entry.name,
    modified_at: modifiedAt(entry),
    // A local model's file size, as Ollama lists it, or the size an upstream Ollama lists for its
    // own; no weights anywhere tandem can see for a cloud or routed name, so 0.
    size: entry.file?.bytes ?? entry.upstreamFile?.bytes ?? 0,
    // An upstream Ollama's own digest: a client that also talks to that Ollama sees the same model.
    digest: entry.upstreamFile?.digest ?? modelDigest(entry.name),
    details: ollamaModelDetails(entry),
  };
}

/**
 * POST /api/show. `capabilities` is what Ollama clients check before offering tools or
 * embeddings: embedding models are recognised by name (nothing else says so yet), everything else
 * is offered completion and tools, which every target kind can serve, and a local model whose chat
 * template has a thinking mode `thinking` (Open WebUI and the ollama CLI offer it by that). A local model created with
 * Ollama's create shows its saved parameters, system prompt and template. A remote target whose
 * upstream describes its model (`upstream`: an Ollama server's own /api/show) shows that upstream's
 * `capabilities` (`vision`, `thinking`...), `details` and `model_info`, which know the model.
 */
export function renderOllamaShow(entry: ModelEntry, settings?: ModelSettings, upstream?: Record<string, unknown>) {
  const details = ollamaModelDetails(entry);
  if (settings?.from && entry.engineModel === true) details.parent_model = settings.from;
  const isEmbedding = /embed/i.test(entry.upstreamModel ?? entry.name);
  const modelInfo: Record<string, unknown> = { "general.architecture": details.family };
  // Ollama's is the GGUF's own key, the context the model was trained on (the window it runs with is
  // num_ctx's); where that is unknown, the window is the nearest thing tandem knows.
  const contextLength = entry.trainedContext ?? entry.contextWindow;
  if (contextLength !== undefined) modelInfo[`${details.family}.context_length`] = contextLength;
  return {
    license: settings?.license ?? "",
    modelfile:
      entry.engineModel === true && settings
        ? renderModelfile(entry.name, settings.from ?? entry.name, settings)
        : modelfileOf(entry),
    parameters: renderParameters(settings?.parameters),
    template: settings?.template ?? "",
    system: settings?.system ?? "",
    details: objectOr(upstream?.details, details),
    model_info: objectOr(upstream?.model_info, modelInfo),
    capabilities: Array.isArray(upstream?.capabilities)
      ? upstream.capabilities
      : isEmbedding
        ? ["embedding"]
        : ["completion", "tools", ...(entry.file?.thinks === true ? ["thinking"] : [])],
    modified_at: modifiedAt(entry),
  };
}

/** An upstream's field when it is a JSON object, else tandem's own. */
function objectOr<T>(value: unknown, own: T): T | Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : own;
}

function modelfileOf(entry: ModelEntry): string {
  if (entry.kind === "route") {
    const tiers = (entry.tiers ?? []).map((tier, i) => `# tier ${i + 1}: ${tier.join(", ")}`);
    return [`# ${entry.name} is a tandem route`, ...tiers].join("\n") + "\n";
  }
  return `# ${entry.name} is served by tandem (provider ${entry.provider ?? "?"})\nFROM ${entry.upstreamModel ?? entry.name}\n`;
}

/**
 * A stable id for a name (clients dedupe and cache on digest, and match /api/ps to /api/tags by
 * it), not a hash of any weights: hashing gigabytes for a listing would cost seconds.
 */
export function modelDigest(name: string): string {
  return createHash("sha256").update(name).digest("hex");
}

/** The upstream's own time when it listed one (to its precision), else tandem's `created` (seconds). */
function modifiedAt(entry: ModelEntry): string {
  if (entry.upstreamFile?.modifiedAt !== undefined) return entry.upstreamFile.modifiedAt;
  return entry.created === undefined ? UNKNOWN_TIME : new Date(entry.created * 1000).toISOString();
}

/** What Ollama writes as the expiry of a model kept loaded forever (keep_alive -1). */
const NEVER = "2318-01-01T00:00:00Z";

/**
 * One entry of GET /api/ps: a model the local engine holds in memory, with the same name and
 * digest as in /api/tags. `size` is all the memory it holds (weights, KV cache, buffers) and
 * `size_vram` the part of it in VRAM, as Ollama reports them.
 */
export function renderOllamaPsEntry(model: LoadedModel) {
  return {
    name: model.target,
    model: model.target,
    size: model.ramBytes + model.vramBytes,
    digest: modelDigest(model.target),
    details: {
      parent_model: "",
      format: "gguf",
      family: model.architecture,
      families: [model.architecture],
      parameter_size: "",
      quantization_level: model.quantization ?? "",
    },
    expires_at: model.expiresAt ?? NEVER,
    size_vram: model.vramBytes,
    context_length: model.contextSize,
  };
}
