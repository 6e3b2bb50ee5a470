import type { Message } from "./messages.js";

/**
 * The conversation with every system message that sits between an assistant's tool calls and their
 * results moved after those results. OpenAI-compatible servers (and Ollama's templates) want an
 * assistant message with tool calls followed directly by its tool messages; an Anthropic client
 * may put a system turn between the tool_use turn and the tool_result turn. The same array when
 * nothing moves (the common case costs no copy).
 */
export function systemAfterToolResults(messages: readonly Message[]): readonly Message[] {
  let out: Message[] | undefined;
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as Message;
    if (message.role !== "assistant" || (message.toolCalls?.length ?? 0) === 0) continue;
    // The run of tool and system messages after the calls: its tool messages first, then its system ones.
    let end = i + 1;
    while (end < messages.length && (messages[end]?.role === "tool" || messages[end]?.role === "system")) end++;
    const run = messages.slice(i + 1, end);
    let lastTool = run.length - 1;
    while (lastTool >= 0 && run[lastTool]?.role !== "tool") lastTool--;
    if (lastTool < 0 || !run.slice(0, lastTool).some((m) => m.role === "system")) continue;
    out ??= messages.slice();
    const reordered = [...run.filter((m) => m.role === "tool"), ...run.filter((m) => m.role === "system")];
    out.splice(i + 1, run.length, ...reordered);
    i = end - 1;
  }
  return out ?? messages;
}
