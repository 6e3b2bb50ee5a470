import { choiceSeed, type ProviderChatRequest } from "../../core/index.js";
import type { ModelSettings } from "../../models/index.js";

/**
 * A request with a model's saved defaults (Ollama's `/api/create` parameters and system prompt)
 * filling what the request leaves unset. The request's own values always win; the system prompt
 * is added only when the conversation has none.
 */
export function applyModelDefaults(request: ProviderChatRequest, settings: ModelSettings | undefined): ProviderChatRequest {
  if (!settings) return request;
  const p = settings.parameters ?? {};
  const out: ProviderChatRequest = { ...request };
  const num = (key: string): number | undefined => (typeof p[key] === "number" ? (p[key] as number) : undefined);
  out.temperature ??= num("temperature");
  out.topP ??= num("top_p");
  out.topK ??= num("top_k");
  // A saved seed steps for each later choice of a fanned-out request, as a client's seed does.
  const saved = num("seed");
  out.seed ??= saved === undefined ? undefined : choiceSeed(saved, request.choice ?? 0);
  out.presencePenalty ??= num("presence_penalty");
  out.frequencyPenalty ??= num("frequency_penalty");
  const predict = num("num_predict");
  if (out.maxTokens === undefined && predict !== undefined && predict > 0) out.maxTokens = predict;
  if (out.stop === undefined && p.stop !== undefined) out.stop = Array.isArray(p.stop) ? (p.stop as string[]) : [String(p.stop)];
  for (const key of [
    "temperature",
    "topP",
    "topK",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "maxTokens",
    "stop",
  ] as const) {
    if (out[key] === undefined) delete out[key];
  }
  if (settings.system && !request.messages.some((m) => m.role === "system")) {
    out.messages = [{ role: "system", content: settings.system }, ...request.messages];
  }
  return out;
}
