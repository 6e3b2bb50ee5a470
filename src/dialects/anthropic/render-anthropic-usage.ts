import type { Usage } from "../../core/index.js";

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
}

/**
 * Canonical `inputTokens` counts the whole prompt, cached part included (as OpenAI's prompt_tokens
 * does); Anthropic's `input_tokens` excludes what was read from the cache and what was written to
 * it, which it reports apart.
 */
export function renderUsage(usage: Partial<Usage>): AnthropicUsage {
  const cached = usage.cachedInputTokens;
  const written = usage.cacheWriteInputTokens;
  const out: AnthropicUsage = {
    input_tokens: Math.max(0, (usage.inputTokens ?? 0) - (cached ?? 0) - (written ?? 0)),
    output_tokens: usage.outputTokens ?? 0,
  };
  if (written !== undefined) out.cache_creation_input_tokens = written;
  if (cached !== undefined) out.cache_read_input_tokens = cached;
  return out;
}
