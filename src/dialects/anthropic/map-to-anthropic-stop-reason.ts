import type { FinishReason } from "../../core/index.js";

export type AnthropicStopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

const UNIFIED: Record<AnthropicStopReason, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
  pause_turn: "other",
};

function isAnthropicStopReason(raw: string | undefined): raw is AnthropicStopReason {
  return raw !== undefined && Object.hasOwn(UNIFIED, raw);
}

/**
 * The Anthropic `stop_reason` for a canonical finish. When the upstream was Anthropic its own value
 * (`raw`) is kept, as long as it agrees with the unified reason. A `stop` that came with tool calls
 * (some OpenAI-compatible servers say so) becomes `tool_use`, because Anthropic clients run their
 * tool loop on that value.
 */
export function toAnthropicStopReason(
  reason: FinishReason,
  raw: string | undefined,
  stopSequence: string | undefined,
  hasToolCalls: boolean,
): AnthropicStopReason {
  if (isAnthropicStopReason(raw) && UNIFIED[raw] === reason) {
    if (raw === "end_turn" && hasToolCalls) return "tool_use";
    return raw;
  }
  switch (reason) {
    case "stop":
      if (hasToolCalls) return "tool_use";
      return stopSequence !== undefined ? "stop_sequence" : "end_turn";
    case "length":
      return "max_tokens";
    case "tool_calls":
      return "tool_use";
    case "content_filter":
      return "refusal";
    case "other":
      return hasToolCalls ? "tool_use" : "end_turn";
  }
}

/**
 * The stop reason of an answer the model gave as a refusal (OpenAI's `refusal`, a Responses refusal
 * part): Anthropic's `refusal` where it would otherwise have ended its turn (a refusal cut short by
 * max_tokens still says so).
 */
export function withRefusal(stopReason: AnthropicStopReason, refused: boolean): AnthropicStopReason {
  return refused && stopReason === "end_turn" ? "refusal" : stopReason;
}

/** A refusal's `stop_details`: tandem knows neither its policy category nor an explanation. */
export interface AnthropicRefusalDetails {
  type: "refusal";
  category: null;
  explanation: null;
}

/**
 * The `stop_details` that goes with a stop reason: structured detail for a refusal, null for the
 * others (as Anthropic's API sends it on a Message and in message_delta).
 */
export function toAnthropicStopDetails(stopReason: AnthropicStopReason): AnthropicRefusalDetails | null {
  return stopReason === "refusal" ? { type: "refusal", category: null, explanation: null } : null;
}
