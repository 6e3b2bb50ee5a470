import type { Message } from "../../core/index.js";

/**
 * Whether the conversation is in the middle of a tool loop whose assistant turn carries no thinking an
 * Anthropic upstream can check: tool results after the last assistant turn, which called tools and has
 * no signed thinking (or redacted) block to start with. That is the case when another target answered
 * that turn (its reasoning, if any, is not Anthropic's to check). With thinking enabled, Anthropic
 * refuses such a request ("a final `assistant` message must start with a thinking block ... To avoid
 * this requirement, disable `thinking`"), so it is sent without thinking; the next turn thinks again.
 */
export function toolLoopWithoutThinking(messages: readonly Message[]): boolean {
  let sawResult = false;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i] as Message;
    if (message.role === "tool") sawResult = true;
    else if (message.role === "assistant") {
      if (!sawResult || (message.toolCalls?.length ?? 0) === 0) return false;
      const first = message.reasoning?.[0];
      return !(first !== undefined && (first.redactedData !== undefined || (first.signature ?? "") !== ""));
    }
  }
  return false;
}
