import type { BatchUsage } from "../../core/batches.js";

/**
 * The tokens one answer used, from its own `usage`, whichever endpoint wrote it: chat completions,
 * completions and embeddings (`prompt_tokens`, `completion_tokens` and their details), the
 * Responses API (`input_tokens`, `output_tokens` and theirs) and Anthropic Messages
 * (`input_tokens`, `output_tokens`, `cache_read_input_tokens`); DeepSeek's answer, passed on as it
 * came, counts its cache hits only as `prompt_cache_hit_tokens`. Undefined when it reports none.
 */
export function batchLineUsage(body: unknown): BatchUsage | undefined {
  const usage = record(record(body)?.usage);
  if (usage === undefined) return undefined;
  const input = count(usage.prompt_tokens) ?? count(usage.input_tokens) ?? 0;
  const output = count(usage.completion_tokens) ?? count(usage.output_tokens) ?? 0;
  const cached =
    count(record(usage.prompt_tokens_details)?.cached_tokens) ??
    count(record(usage.input_tokens_details)?.cached_tokens) ??
    count(usage.cache_read_input_tokens) ??
    count(usage.prompt_cache_hit_tokens) ??
    0;
  const reasoning =
    count(record(usage.completion_tokens_details)?.reasoning_tokens) ??
    count(record(usage.output_tokens_details)?.reasoning_tokens) ??
    0;
  return { inputTokens: input, outputTokens: output, cachedTokens: cached, reasoningTokens: reasoning };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
}
