import type { FinishReason } from "../../core/index.js";

/** `function_call`: the deprecated functions API's call (legacy-functions.ts). */
export type OpenAIChatFinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

/**
 * Canonical -> OpenAI finish reason. A stream that produced tool calls finishes with `tool_calls`
 * whatever the upstream said (Ollama and some local servers say `stop`), because OpenAI clients run
 * their tool loop on that value.
 */
export function mapOpenAIChatFinishReason(reason: FinishReason, hasToolCalls: boolean): OpenAIChatFinishReason {
  if (hasToolCalls && (reason === "stop" || reason === "tool_calls" || reason === "other")) return "tool_calls";
  switch (reason) {
    case "length":
      return "length";
    case "content_filter":
      return "content_filter";
    case "tool_calls":
      // Only possible without any call; an empty tool_calls answer reads as a plain stop.
      return "stop";
    default:
      return "stop";
  }
}

/** The legacy completions API knows only stop, length and content_filter. */
export function mapOpenAICompletionFinishReason(reason: FinishReason): "stop" | "length" | "content_filter" {
  if (reason === "length") return "length";
  if (reason === "content_filter") return "content_filter";
  return "stop";
}
