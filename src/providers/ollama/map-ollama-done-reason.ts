import type { FinishReason } from "../../core/index.js";

/**
 * Ollama's `done_reason` -> canonical finish reason. Ollama says "stop" even when the answer is a
 * tool call, so an answer that made calls finishes with `tool_calls`. "load"/"unload" (no
 * generation happened) and anything unknown are `other`; the raw value is kept by the caller.
 */
export function mapOllamaDoneReason(doneReason: string | null | undefined, madeToolCalls: boolean): FinishReason {
  if (doneReason === "length") return "length";
  if (doneReason === "stop" || doneReason == null || doneReason === "") return madeToolCalls ? "tool_calls" : "stop";
  return "other";
}
