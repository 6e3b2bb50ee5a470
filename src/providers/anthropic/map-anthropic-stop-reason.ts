import type { FinishReason } from "../../core/index.js";

/** Anthropic's stop_reason in the unified terms; the raw value travels alongside in `finish.raw`. */
export function mapAnthropicStopReason(stopReason: string | null | undefined): FinishReason {
  switch (stopReason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default:
      // pause_turn (a server tool paused a long turn) and values added later.
      return "other";
  }
}
