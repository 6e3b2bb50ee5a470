import {
  argumentsObject,
  type ContentPart,
  GatewayError,
  type ImagePart,
  type Message,
  textOf,
  textWithFiles,
  toolResultText,
} from "../../core/index.js";
import { systemAfterToolResults } from "../../core/system-after-tool-results.js";
import type { OllamaMessageIn, OllamaToolCallIn } from "./ollama-api.js";

const DATA_URL = /^data:[^;,]*;base64,(.*)$/is;

/**
 * Canonical messages -> Ollama chat messages.
 *
 * - Images must be base64 (Ollama cannot fetch URLs); `data:` URLs are unwrapped, any other URL is
 *   a 400 rather than a silent drop.
 * - Tool-call arguments become objects, as Ollama wants. Text that is not a JSON object goes as its
 *   text in an object (core's argumentsObject, named by ollamaUnsent): a model's broken call in the
 *   history should not make the whole conversation unusable, nor lose what the call was.
 * - Tool results carry `tool_name` (Ollama's templates need it); when the canonical message has no
 *   name, it is looked up from the assistant call with the same id. The id goes along as
 *   `tool_call_id`, which Ollama >= 0.12.10 reads and older servers ignore. Ollama has no error flag
 *   on tool results, so a failed tool's text is prefixed with "Error: ", as on OpenAI's wires.
 * - A system message between tool calls and their results goes after the results (see
 *   systemAfterToolResults).
 */
export function convertToOllamaMessages(messages: readonly Message[]): OllamaMessageIn[] {
  const callNames = new Map<string, string>();
  return systemAfterToolResults(messages).map((message, i) => convertMessage(message, i, callNames));
}

/** One message; `callNames` collects assistant call names by id so later tool results can be named. */
function convertMessage(message: Message, i: number, callNames: Map<string, string>): OllamaMessageIn {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user": {
      // Files as their text (Ollama reads no documents); one without text is named by ollamaUnsent.
      const out: OllamaMessageIn = { role: "user", content: textWithFiles(message.content) };
      withImages(out, message.content, i);
      return out;
    }
    case "assistant": {
      const out: OllamaMessageIn = { role: "assistant", content: textOf(message.content) };
      const thinking = (message.reasoning ?? []).map((part) => part.text).join("");
      if (thinking !== "") out.thinking = thinking;
      if (message.toolCalls?.length) {
        out.tool_calls = message.toolCalls.map((call): OllamaToolCallIn => {
          callNames.set(call.id, call.name);
          return { id: call.id, function: { name: call.name, arguments: argumentsObject(call.arguments) } };
        });
      }
      return out;
    }
    case "tool": {
      const out: OllamaMessageIn = { role: "tool", content: toolResultText(message), tool_call_id: message.toolCallId };
      const name = message.name ?? callNames.get(message.toolCallId);
      if (name) out.tool_name = name;
      // A tool result's images (a screenshot) as the message's own, which Ollama takes on any role.
      withImages(out, message.content, i);
      return out;
    }
  }
}

/** The `images` (base64) of message `i`'s content, set on `out` when it has any. */
function withImages(out: OllamaMessageIn, content: readonly ContentPart[], i: number): void {
  const images: string[] = [];
  content.forEach((part, j) => {
    if (part.type === "image") images.push(imageBase64(part, `messages[${i}].content[${j}]`));
  });
  if (images.length > 0) out.images = images;
}

function imageBase64(image: ImagePart, param: string): string {
  if (image.source.kind === "base64") return image.source.data;
  const data = DATA_URL.exec(image.source.url)?.[1];
  if (data !== undefined) return data;
  throw new GatewayError(
    "invalid_request",
    `Ollama takes images only as base64 data; '${param}' is a URL (send the image data instead)`,
    { param },
  );
}
