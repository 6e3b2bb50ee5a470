import type { FinishReason } from "../../core/index.js";

/** An OpenAI-compatible finish_reason -> the unified reason (the raw value is kept beside it). */
export function mapOpenAIFinishReason(raw: string | undefined): FinishReason {
  switch (raw) {
    case "stop":
    case "end_turn":
      return "stop";
    case "length":
      return "length";
    case "tool_calls":
    case "function_call":
      return "tool_calls";
    case "content_filter":
      return "content_filter";
    default:
      return "other";
  }
}
