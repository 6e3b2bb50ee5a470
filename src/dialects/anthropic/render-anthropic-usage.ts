import type { Usage } from "../../core/index.js";

/**
 * The counters of a `message_delta` event's `usage`: cumulative totals for the message so far
 * (the SDK's MessageDeltaUsage, every field declared).
 */
export interface AnthropicDeltaUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
  /** The output tokens spent thinking (part of output_tokens); 0 when none were reported. */
  output_tokens_details: { thinking_tokens: number };
  /** Anthropic's own web search and fetch tools: tandem runs neither, so null, as the API has it then. */
  server_tool_use: null;
}

/**
 * The counters the beta Messages API's usage adds (BetaUsage, BetaMessageDeltaUsage), for a
 * `?beta=true` request: `fallback_credit` (a fallback model's billing) and `iterations` (per-step
 * usage of compaction, an advisor or a fallback), both null since tandem runs none of them.
 */
export interface AnthropicBetaUsage {
  fallback_credit: null;
  iterations: null;
}

/** What a `?beta=true` answer's usage adds to the other's: nothing for any other request. */
export function betaUsage(beta: boolean): AnthropicBetaUsage | Record<string, never> {
  return beta ? { fallback_credit: null, iterations: null } : {};
}

/** A Message's `usage` (and `message_start`'s), as the SDK's Usage declares it: every field present. */
export interface AnthropicUsage extends AnthropicDeltaUsage {
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  /** The region inference ran in: the API's "not_available" when it names none, as tandem cannot. */
  inference_geo: "not_available";
  service_tier: "standard";
  speed: "standard";
}

/**
 * Canonical `inputTokens` counts the whole prompt, cached part included (as OpenAI's prompt_tokens
 * does); Anthropic's `input_tokens` excludes what was read from the cache and what was written to
 * it, which it reports apart, as 0 when nothing was (as Anthropic does: its SDKs declare every
 * counter, and clients add them up).
 */
export function renderDeltaUsage(usage: Partial<Usage>): AnthropicDeltaUsage {
  const cached = usage.cachedInputTokens ?? 0;
  const written = usage.cacheWriteInputTokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage.inputTokens ?? 0) - cached - written),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    output_tokens: usage.outputTokens ?? 0,
    output_tokens_details: { thinking_tokens: usage.reasoningTokens ?? 0 },
    server_tool_use: null,
  };
}

/**
 * The whole usage object. The canonical usage does not say for how long cache writes were kept:
 * they count as the default 5-minute TTL's. Every request is on the standard tier at the standard
 * speed: tandem has no other.
 */
export function renderUsage(usage: Partial<Usage>): AnthropicUsage {
  const { output_tokens, output_tokens_details, server_tool_use, ...input } = renderDeltaUsage(usage);
  return {
    ...input,
    cache_creation: { ephemeral_5m_input_tokens: input.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
    inference_geo: "not_available",
    output_tokens,
    output_tokens_details,
    server_tool_use,
    service_tier: "standard",
    speed: "standard",
  };
}
