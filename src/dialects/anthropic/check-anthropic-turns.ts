import { invalidValue } from "../shared/index.js";
import type { MessageParam } from "./messages-api.js";

/** Consecutive messages of one role: Anthropic's API combines them into one turn. */
interface Turn {
  role: "user" | "assistant";
  /** Each message of the turn with its index in `messages`. */
  messages: { index: number; message: MessageParam }[];
}

/**
 * The rules Anthropic's API holds a conversation to beyond each block's shape, so that a request it
 * would refuse is refused here too, on any target, with its words (instead of reaching a target that
 * answers something else, or an upstream's own 400 in other terms):
 *
 * - every message has content, except an optional final assistant message (a prefill), and a user
 *   message has more than whitespace;
 * - each `tool_result` answers a `tool_use` of the assistant turn just before it;
 * - each `tool_use` is answered by a `tool_result` in the turn just after it (when there is one);
 * - no two `tool_use` blocks of the conversation share an id (a result could not say which it answers).
 *
 * Consecutive messages of one role are one turn, as Anthropic combines them; `system` turns in the
 * conversation (agent clients' reminders) stand between no two turns.
 */
export function checkAnthropicTurns(messages: readonly MessageParam[]): void {
  messages.forEach((message, i) => {
    const prefill = i === messages.length - 1 && message.role === "assistant";
    if (message.content.length === 0 && !prefill) {
      throw invalidValue(
        `messages[${i}]`,
        "all messages must have non-empty content except for the optional final assistant message",
      );
    }
    // A model's whitespace-only text is left out on the way (see MessageTextBlockSchema); a user's
    // message of nothing else would leave nothing.
    if (message.role === "user" && message.content.every((block) => block.type === "text" && block.text.trim() === "")) {
      throw invalidValue(`messages[${i}].content[0].text`, "text content blocks must contain non-whitespace text");
    }
  });
  checkUniqueToolUseIds(messages);
  const turns = turnsOf(messages);
  turns.forEach((turn, t) => {
    if (turn.role === "user") checkResults(turn, turns[t - 1]);
    else checkAnswered(turn, turns[t + 1]);
  });
}

function turnsOf(messages: readonly MessageParam[]): Turn[] {
  const turns: Turn[] = [];
  messages.forEach((message, index) => {
    if (message.role === "system") return;
    const last = turns.at(-1);
    if (last?.role === message.role) last.messages.push({ index, message });
    else turns.push({ role: message.role, messages: [{ index, message }] });
  });
  return turns;
}

function toolUseIds(turn: Turn | undefined): Set<string> {
  const ids = new Set<string>();
  if (turn?.role !== "assistant") return ids;
  for (const { message } of turn.messages) for (const block of message.content) if (block.type === "tool_use") ids.add(block.id);
  return ids;
}

function checkResults(turn: Turn, previous: Turn | undefined): void {
  const called = toolUseIds(previous);
  for (const { index, message } of turn.messages) {
    message.content.forEach((block, j) => {
      if (block.type !== "tool_result" || called.has(block.tool_use_id)) return;
      throw invalidValue(
        `messages[${index}].content[${j}]`,
        `unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${block.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
      );
    });
  }
}

function checkAnswered(turn: Turn, next: Turn | undefined): void {
  if (next === undefined) return;
  const answered = new Set<string>();
  for (const { message } of next.messages) {
    for (const block of message.content) if (block.type === "tool_result") answered.add(block.tool_use_id);
  }
  for (const { index, message } of turn.messages) {
    const missing = message.content.flatMap((block) => (block.type === "tool_use" && !answered.has(block.id) ? [block.id] : []));
    if (missing.length === 0) continue;
    throw invalidValue(
      `messages[${index}]`,
      `\`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
    );
  }
}

function checkUniqueToolUseIds(messages: readonly MessageParam[]): void {
  const seen = new Set<string>();
  messages.forEach((message, i) => {
    if (message.role !== "assistant") return;
    message.content.forEach((block, j) => {
      if (block.type !== "tool_use") return;
      if (seen.has(block.id)) throw invalidValue(`messages[${i}].content[${j}]`, "`tool_use` ids must be unique");
      seen.add(block.id);
    });
  });
}
