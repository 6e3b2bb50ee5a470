import { type ChatRequest, checkResponseSchema, GatewayError, type ResponseFormat } from "../../core/index.js";
import type { OllamaOptions } from "./ollama-server-api.js";

type Sampling = Pick<
  ChatRequest,
  | "responseFormat"
  | "maxTokens"
  | "temperature"
  | "topP"
  | "topK"
  | "stop"
  | "seed"
  | "presencePenalty"
  | "frequencyPenalty"
  | "contextSize"
>;

/** Maps Ollama's `format` and `options` onto the canonical sampling fields (unset ones are left out). */
export function parseOllamaSampling(
  format: string | Record<string, unknown> | null | undefined,
  options: OllamaOptions,
): Sampling {
  const out: Sampling = {};
  const responseFormat = parseOllamaFormat(format);
  if (responseFormat) out.responseFormat = responseFormat;
  if (!options) return out;
  if (options.temperature != null) out.temperature = options.temperature;
  if (options.top_p != null) out.topP = options.top_p;
  if (options.top_k != null) out.topK = options.top_k;
  // -1 (no limit) and -2 (fill the context) both leave the limit to the target; 0 is Go's "unset".
  if (options.num_predict != null && options.num_predict > 0) out.maxTokens = options.num_predict;
  // -1, Ollama's default, means a random seed (its sampler leaves the generation unseeded): that is no
  // seed, which every target samples afresh for; an OpenAI upstream would take -1 as a fixed seed.
  if (options.seed != null && options.seed !== -1) out.seed = options.seed;
  if (options.presence_penalty != null) out.presencePenalty = options.presence_penalty;
  if (options.frequency_penalty != null) out.frequencyPenalty = options.frequency_penalty;
  // 0 is Go's "unset", as for num_predict; a negative window means nothing either.
  if (options.num_ctx != null && options.num_ctx > 0) out.contextSize = options.num_ctx;
  if (options.stop != null) {
    const stop = typeof options.stop === "string" ? [options.stop] : options.stop;
    if (stop.length > 0) out.stop = stop;
  }
  return out;
}

function parseOllamaFormat(format: string | Record<string, unknown> | null | undefined): ResponseFormat | undefined {
  if (format == null || format === "") return undefined;
  // Ollama holds the answer to the schema with a grammar: strict wherever a target can be.
  if (typeof format === "object") {
    checkResponseSchema(format, "format");
    return { type: "json_schema", schema: format, strict: "where-possible", param: "format" };
  }
  if (format === "json") return { type: "json" };
  throw new GatewayError("invalid_request", `Invalid value for 'format': expected "json" or a JSON schema object`, {
    param: "format",
  });
}
