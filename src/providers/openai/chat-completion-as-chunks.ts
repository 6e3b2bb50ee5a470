import type { EventSourceMessage } from "eventsource-parser";

/**
 * A whole `chat.completion`, from a server that answered a streamed request with one (some
 * OpenAI-compatible servers do for a model that cannot stream), retold as the stream OpenAI would
 * have sent for it, so the stream's reader and the same-wire tap read it as they read any stream:
 * one chunk with every choice's message as its delta (tool calls numbered by their place, as
 * streamed calls are) and its finish_reason, logprobs and other fields, then the usage chunk when
 * there is usage, then `[DONE]`. Every field of the completion is kept where a chunk has it.
 */
export function chatCompletionAsChunks(json: unknown): EventSourceMessage[] {
  const completion = json as Record<string, unknown>;
  const choices = (Array.isArray(completion.choices) ? completion.choices : []).map((choice: unknown, i) => {
    const { message, ...fields } = (typeof choice === "object" && choice !== null ? choice : {}) as Record<string, unknown>;
    return { ...fields, index: fields.index ?? i, delta: deltaOf(message) };
  });
  // The completion's own fields in their places, as a chunk's; usage follows in a chunk of its own.
  const chunk = (fields: { choices: unknown[]; usage?: unknown }) =>
    Object.fromEntries([
      ...Object.entries(completion).flatMap(([key, value]): Array<[string, unknown]> => {
        if (key === "object") return [[key, "chat.completion.chunk"]];
        if (key === "choices" || key === "usage") return [];
        return [[key, value]];
      }),
      ...Object.entries(fields),
    ]);
  const messages = [message(chunk({ choices }))];
  if (completion.usage != null) messages.push(message(chunk({ choices: [], usage: completion.usage })));
  messages.push({ id: undefined, event: undefined, data: "[DONE]" });
  return messages;
}

/** A whole message as a delta: every field, its tool calls with the `index` a stream gives each. */
function deltaOf(message: unknown): Record<string, unknown> {
  if (typeof message !== "object" || message === null) return {};
  const { tool_calls: calls, ...fields } = message as Record<string, unknown>;
  if (!Array.isArray(calls)) return fields;
  return { ...fields, tool_calls: calls.map((call: unknown, index) => ({ index, ...(call as object) })) };
}

function message(data: unknown): EventSourceMessage {
  return { id: undefined, event: undefined, data: JSON.stringify(data) };
}
