import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import { type Message, textOf, textWithFiles } from "../../../core/index.js";
import { textOnlyRefusal } from "../text-only.js";

/**
 * Canonical messages -> node-llama-cpp's chat history. Tool results do not have their own turn in
 * node-llama-cpp: they are the `result` of the function call item in the model response that made
 * the call, which is how the chat wrapper renders them back into the model's own template.
 * The history always ends with a model response to generate into: an empty one, or the client's
 * trailing assistant message (a prefill, or tool calls whose results follow), which the model continues.
 */
export function toChatHistory(messages: readonly Message[], target: string): ChatHistoryItem[] {
  const refusal = textOnlyRefusal(messages, target);
  if (refusal) throw refusal;
  const history: ChatHistoryItem[] = [];
  /** Calls made by the assistant and not yet answered, by tool call id. */
  const open = new Map<string, ChatModelFunctionCall>();
  for (const message of messages) {
    switch (message.role) {
      case "system":
        history.push({ type: "system", text: message.content });
        break;
      case "user":
        // Files as their text: the engine reads no documents (one without text is named by unsent).
        history.push({ type: "user", text: textWithFiles(message.content) });
        break;
      case "assistant": {
        const response: ChatModelResponse["response"] = [];
        const text = textOf(message.content);
        if (text) response.push(text);
        for (const call of message.toolCalls ?? []) {
          const item: ChatModelFunctionCall = {
            type: "functionCall",
            name: call.name,
            params: parseArguments(call.arguments),
            result: "",
          };
          open.set(call.id, item);
          response.push(item);
        }
        history.push({ type: "model", response });
        break;
      }
      case "tool": {
        const call = open.get(message.toolCallId);
        const result = textWithFiles(message.content);
        if (call) {
          call.result = message.isError ? `Error: ${result}` : parseResult(result);
          open.delete(message.toolCallId);
        } else {
          // A result with no call in this conversation: keep it as information for the model.
          history.push({ type: "user", text: `Result of tool ${message.name ?? message.toolCallId}: ${result}` });
        }
        break;
      }
    }
  }
  // After answered tool calls the model goes on in the same response, as node-llama-cpp's own sessions do.
  if (history.at(-1)?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text || "{}");
  } catch {
    return text;
  }
}

/** Tool results are usually JSON; structured results render better in templates that expect objects. */
function parseResult(text: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith("{") || trimmed.startsWith("["))) return text;
  try {
    return JSON.parse(trimmed);
  } catch {
    return text;
  }
}
