import {
  type ContentPart,
  callArgumentsText,
  GatewayError,
  type Message,
  makeId,
  type ToolCall,
  type WrittenMessageValue,
  writtenMessageValues,
} from "../../core/index.js";
import { decodeOllamaImage } from "./decode-ollama-image.js";
import type { OllamaMessage } from "./ollama-server-api.js";

/**
 * Converts Ollama chat messages into canonical messages.
 *
 * Ollama tool calls may carry no id (servers before 0.12.10 and most hand-written histories), and
 * tool results name only the tool. The canonical conversation needs ids that pair every result
 * with its call (OpenAI and Anthropic upstreams reject unpaired ones), so: each assistant tool call
 * keeps its id or gets a synthesized `call_…` one, and each following tool message takes the id of
 * the call it answers — by `tool_call_id` when given, else the first unanswered call of the
 * preceding assistant message with the same `tool_name`, else the first unanswered call in order.
 */
export function convertFromOllamaMessages(
  messages: readonly OllamaMessage[],
  /** The body's values as the client wrote them: an object `arguments` keeps its digits (see callArgumentsText). */
  written: WrittenMessageValue = writtenMessageValues(undefined),
): Message[] {
  const out: Message[] = [];
  let unanswered: ToolCall[] = [];
  messages.forEach((message, i) => {
    const param = `messages[${i}]`;
    const content = message.content ?? "";
    switch (message.role.toLowerCase()) {
      case "system":
        out.push({ role: "system", content });
        break;
      case "user":
        out.push({ role: "user", content: textAndImages(message, param) });
        break;
      case "assistant": {
        const toolCalls: ToolCall[] = (message.tool_calls ?? []).map((call, k) => ({
          id: call.id || makeId("call_"),
          name: call.function.name,
          arguments: argumentsText(call.function.arguments, () => written(i, ["tool_calls", k, "function", "arguments"])),
        }));
        unanswered = [...toolCalls];
        out.push({
          role: "assistant",
          content: content === "" ? [] : [{ type: "text", text: content }],
          ...(message.thinking ? { reasoning: [{ type: "reasoning", text: message.thinking }] } : {}),
          ...(toolCalls.length > 0 ? { toolCalls } : {}),
        });
        break;
      }
      case "tool": {
        const name = message.tool_name || message.name || undefined;
        const call = takeAnsweredCall(unanswered, message.tool_call_id ?? undefined, name);
        if (call) unanswered = unanswered.filter((c) => c !== call);
        const toolName = name ?? call?.name;
        out.push({
          role: "tool",
          toolCallId: message.tool_call_id || call?.id || makeId("call_"),
          ...(toolName ? { name: toolName } : {}),
          // A tool's images (a screenshot, an image file it read) belong to its result, as a Responses
          // client's input_image in a function_call_output does: each target's codec then carries them
          // the closest way its wire allows, and a target that reads no images is refused or skipped.
          content: textAndImages(message, param),
        });
        break;
      }
      default:
        throw new GatewayError(
          "invalid_request",
          `Invalid value for '${param}.role': expected one of system, user, assistant, tool (got '${message.role}')`,
          { param: `${param}.role` },
        );
    }
  });
  return out;
}

/** A user or tool message's text and its base64 `images`, in Ollama's order (text first). */
function textAndImages(message: OllamaMessage, param: string): ContentPart[] {
  const content = message.content ?? "";
  const parts: ContentPart[] = [];
  if (content !== "" || !message.images?.length) parts.push({ type: "text", text: content });
  message.images?.forEach((image, j) => {
    parts.push(decodeOllamaImage(image, `${param}.images[${j}]`));
  });
  return parts;
}

function takeAnsweredCall(unanswered: readonly ToolCall[], id: string | undefined, name: string | undefined) {
  if (id) return unanswered.find((c) => c.id === id);
  if (name) {
    const byName = unanswered.find((c) => c.name === name);
    if (byName) return byName;
  }
  return unanswered[0];
}

function argumentsText(args: Record<string, unknown> | string | null | undefined, written: () => string | undefined): string {
  if (args === null || args === undefined) return "{}";
  return typeof args === "string" ? args : callArgumentsText(args, written());
}
