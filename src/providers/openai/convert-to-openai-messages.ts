import {
  type ContentPart,
  fileDataUrl,
  filePartAsText,
  type ImageDetail,
  type ImageSource,
  joinPart,
  type Message,
  textOf,
  toolResultText,
} from "../../core/index.js";
import { systemAfterToolResults } from "../../core/system-after-tool-results.js";
import type { OpenAIChatMessage, OpenAIContentPart } from "./openai-chat-api.js";

/**
 * Canonical -> OpenAI chat messages. User content of one text part is sent as a plain string, which
 * every compatible server accepts; several parts as a list (text parts stay apart: a document and the
 * question about it are two blocks, not one run of text), images as `image_url` parts (inline images
 * as `data:` URLs). An assistant's or a tool's text is one string, its parts a blank line apart.
 * Tool calls and results keep their ids. OpenAI has no error flag on tool results, so a failed
 * tool's text is prefixed with "Error: ". A tool message takes text only: the images of tool results
 * (a screenshot, an image file an agent read) follow the results in one user message, each call's
 * images after a line naming the call, so the model still sees them. Images in assistant turns
 * cannot be sent and are dropped. A system message between tool calls and their results goes after
 * the results (see systemAfterToolResults).
 */
export function convertToOpenAIMessages(messages: readonly Message[], reasoningContent = false): OpenAIChatMessage[] {
  const out: OpenAIChatMessage[] = [];
  let images: OpenAIContentPart[] = [];
  for (const message of systemAfterToolResults(messages)) {
    if (message.role !== "tool" && images.length > 0) {
      out.push({ role: "user", content: images });
      images = [];
    }
    out.push(convertMessage(message, reasoningContent));
    if (message.role === "tool") images.push(...toolResultImages(message.toolCallId, message.content));
  }
  if (images.length > 0) out.push({ role: "user", content: images });
  return out;
}

/** A tool result's images as user content parts, after a line that says whose they are; none when it has none. */
function toolResultImages(callId: string, parts: readonly ContentPart[]): OpenAIContentPart[] {
  const images = parts.flatMap((part): OpenAIContentPart[] =>
    part.type === "image" ? [{ type: "image_url", image_url: imagePartUrl(part) }] : [],
  );
  if (images.length === 0) return [];
  return [
    { type: "text", text: `The result of tool call ${callId} included ${images.length === 1 ? "this image" : "these images"}:` },
    ...images,
  ];
}

function imagePartUrl(part: Extract<ContentPart, { type: "image" }>): { url: string; detail?: ImageDetail } {
  const url = imageUrl(part.source);
  return part.detail === undefined ? { url } : { url, detail: part.detail };
}

function convertMessage(message: Message, reasoningContent: boolean): OpenAIChatMessage {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: userContent(message.content) };
    case "assistant": {
      const text = textOf(message.content);
      const calls = message.toolCalls ?? [];
      // Earlier reasoning, to an upstream that reads it back (DeepSeek's thinking mode wants it on a
      // tool call's turn): the blocks' text, a blank line apart, as the turn's text is joined.
      const reasoning = reasoningContent
        ? (message.reasoning ?? []).reduce((joined, part) => joinPart(joined, part.text), "")
        : "";
      const thought = reasoning === "" ? {} : { reasoning_content: reasoning };
      if (calls.length === 0) return { role: "assistant", content: text, ...thought };
      return {
        role: "assistant",
        content: text === "" ? null : text,
        ...thought,
        tool_calls: calls.map((call) => ({
          id: call.id,
          type: "function",
          // OpenAI rejects an empty arguments string in history; an empty call means no arguments.
          function: { name: call.name, arguments: call.arguments === "" ? "{}" : call.arguments },
        })),
      };
    }
    case "tool":
      return { role: "tool", tool_call_id: message.toolCallId, content: toolResultText(message) };
  }
}

/**
 * A PDF goes as a `file` part with its bytes inline (`file_data`); any other file as its text, or
 * not at all when it has none (named by openAIUnsent).
 */
function userContent(parts: readonly ContentPart[]): string | OpenAIContentPart[] {
  const [first] = parts;
  if (parts.length === 0) return "";
  if (parts.length === 1 && first?.type === "text") return first.text;
  return parts.flatMap((part): OpenAIContentPart[] => {
    if (part.type === "text") return [{ type: "text", text: part.text }];
    if (part.type === "file") {
      if (part.mediaType === OPENAI_FILE_TYPE) {
        return [
          {
            type: "file",
            file: { ...(part.filename !== undefined && { filename: part.filename }), file_data: fileDataUrl(part) },
          },
        ];
      }
      const text = filePartAsText(part);
      return text === undefined ? [] : [text];
    }
    return [{ type: "image_url", image_url: imagePartUrl(part) }];
  });
}

/** The file type OpenAI's chat and Responses APIs read as a document. */
export const OPENAI_FILE_TYPE = "application/pdf";

/** An image as OpenAI's APIs take one: its URL, or an inline image as a `data:` URL. */
export function imageUrl(source: ImageSource): string {
  return source.kind === "url" ? source.url : `data:${source.mediaType};base64,${source.data}`;
}
