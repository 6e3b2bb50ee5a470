import {
  base64Head,
  type ContentPart,
  GatewayError,
  type ImageSource,
  isBase64Text,
  joinPart,
  type Message,
  sniffImageType,
  type ToolCall,
  type WireOnly,
} from "../../core/index.js";
import type { ChatMessageBody } from "./chat-completions-api.js";
import { customToolArguments } from "./custom-tools.js";
import { type FileResolver, filePartsOf } from "./files/file-resolver.js";
import { LegacyCallIds } from "./legacy-functions.js";

/**
 * OpenAI chat messages -> canonical messages. `system` and `developer` both become canonical system
 * messages; a user's `name` is dropped (no other API carries it); assistant refusals are kept as text
 * so the conversation reads the same to any model. The deprecated functions API's turns are tool
 * calls and results as any: an assistant's `function_call` a call with an id of tandem's, a
 * `role: "function"` message that call's result (legacy-functions.ts, LegacyCallIds).
 */
export function convertFromOpenAIMessages(
  messages: readonly ChatMessageBody[],
  wireOnly: WireOnly[] = [],
  files?: FileResolver,
): Message[] {
  // Made only for a history that has legacy turns (most have none).
  let legacy: LegacyCallIds | undefined;
  const legacyIds = () => {
    legacy ??= new LegacyCallIds(messages);
    return legacy;
  };
  return messages.map((message, i) => convertMessage(message, i, wireOnly, legacyIds, files));
}

/**
 * `wireOnly` collects what has no canonical form (audio parts, file parts by an id tandem does not
 * have): it is left out of the canonical messages and reaches only a target on
 * the client's wire (see core/native.ts). `files` holds the files the body names, resolved
 * (files/chat-files.ts): those become canonical parts.
 */
function convertMessage(
  message: ChatMessageBody,
  index: number,
  wireOnly: WireOnly[],
  legacyIds: () => LegacyCallIds,
  files?: FileResolver,
): Message {
  const at = `messages[${index}]`;
  switch (message.role) {
    case "system":
    case "developer":
      return { role: "system", content: joinText(message.content) };
    case "user":
      return { role: "user", content: userContent(message.content, at, wireOnly, files) };
    case "assistant": {
      const content: ContentPart[] = [];
      if (typeof message.content === "string") {
        if (message.content) content.push({ type: "text", text: message.content });
      } else if (message.content) {
        for (const part of message.content) {
          const text = part.type === "text" ? part.text : part.refusal;
          if (text) content.push({ type: "text", text });
        }
      }
      // A refusal beside text (as a chat completion answers both) follows it, unless a part said it already.
      const refusal = message.refusal;
      if (refusal && !content.some((part) => part.type === "text" && part.text === refusal))
        content.push({ type: "text", text: refusal });
      const toolCalls: ToolCall[] = (message.tool_calls ?? []).map((call) => {
        if (call.type === "custom") {
          // The call of the function a custom tool is offered as (custom-tools.ts): its input as that
          // function's one argument, which privacy reads as any call's arguments.
          return { id: call.id, name: call.custom.name, arguments: customToolArguments(call.custom.input) };
        }
        return {
          id: call.id,
          name: call.function.name,
          arguments:
            typeof call.function.arguments === "string" ? call.function.arguments : JSON.stringify(call.function.arguments),
        };
      });
      // The legacy API's one call of the turn, after any the turn made as tool calls.
      if (message.function_call != null) toolCalls.push(legacyIds().call(index, message.function_call));
      return {
        role: "assistant",
        content,
        ...(message.reasoning_content ? { reasoning: [{ type: "reasoning" as const, text: message.reasoning_content }] } : {}),
        ...(toolCalls.length > 0 && { toolCalls }),
      };
    }
    case "tool":
      // Each text part stays a part: Anthropic's tool_result takes them as blocks, and a wire whose
      // tool message holds one string joins them by a blank line (textWithFiles).
      return {
        role: "tool",
        toolCallId: message.tool_call_id,
        content:
          typeof message.content === "string"
            ? [{ type: "text", text: message.content }]
            : message.content.map((part) => ({ type: "text" as const, text: part.text })),
      };
    case "function":
      // A legacy call's result, as any tool's (privacy reads and redacts it as one), named by its function.
      return {
        role: "tool",
        toolCallId: legacyIds().result(index, message.name),
        name: message.name,
        content: [{ type: "text", text: message.content == null ? "" : joinText(message.content) }],
      };
  }
}

/**
 * A system message's text parts as one string (the canonical system message is one), a blank line
 * between them as between Anthropic's system blocks, so two parts do not reach the model as one run
 * of text.
 */
function joinText(content: string | readonly { text: string }[]): string {
  if (typeof content === "string") return content;
  return content.reduce((joined, part) => joinPart(joined, part.text), "");
}

type UserContent = Extract<ChatMessageBody, { role: "user" }>["content"];

function userContent(content: UserContent, at: string, wireOnly: WireOnly[], files?: FileResolver): ContentPart[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  const parts: ContentPart[] = [];
  content.forEach((part, j) => {
    switch (part.type) {
      case "text":
        parts.push({ type: "text", text: part.text });
        break;
      case "image_url": {
        const url = typeof part.image_url === "string" ? part.image_url : part.image_url.url;
        const detail = typeof part.image_url === "string" ? undefined : (part.image_url.detail ?? undefined);
        const source = imageSource(url, `${at}.content[${j}].image_url.url`);
        parts.push(detail === undefined ? { type: "image", source } : { type: "image", source, detail });
        break;
      }
      case "input_audio":
        wireOnly.push({ param: `${at}.content[${j}]`, what: "an input_audio part", unread: true });
        break;
      case "file": {
        const { file_id: id, file_data: data, filename } = part.file;
        const found = data ? files?.inlineFile(data, filename ?? undefined) : id ? files?.storedFile(id) : undefined;
        if (found !== undefined) {
          parts.push(...filePartsOf(found));
          break;
        }
        // An uploaded file's id sends nothing new; its bytes inline do.
        wireOnly.push({
          param: `${at}.content[${j}]`,
          what: "a file part",
          ...(part.file.file_data != null && { unread: true as const }),
        });
        break;
      }
    }
  });
  return parts;
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s;

/** `data:` URLs become inline base64 images (so every provider can send them); others stay URLs. */
export function imageSource(url: string, param: string): ImageSource {
  if (!url.startsWith("data:")) {
    if (!/^https?:\/\//i.test(url)) {
      throw new GatewayError("invalid_request", `Invalid value for '${param}': expected an http(s) URL or a base64 data: URL.`, {
        param,
      });
    }
    return { kind: "url", url };
  }
  const match = DATA_URL.exec(url);
  if (!match) throw new GatewayError("invalid_request", `Invalid value for '${param}': not a valid data: URL.`, { param });
  const isBase64 = (match[2] ?? "").split(";").includes("base64");
  const payload = match[3] ?? "";
  let data: string;
  try {
    data = isBase64 ? payload.replace(/\s+/g, "") : Buffer.from(decodeURIComponent(payload), "utf8").toString("base64");
  } catch {
    throw new GatewayError("invalid_request", `Invalid value for '${param}': bad percent-encoding in the data: URL.`, { param });
  }
  if (!data) throw new GatewayError("invalid_request", `Invalid value for '${param}': the data: URL is empty.`, { param });
  // The bytes say what the image is where they are one of the formats every image-reading target
  // takes: OpenAI takes a mislabelled image, Anthropic refuses one ("Image does not match the provided
  // media type"), so a client that works against one would break once its route reaches the other.
  // Anything else keeps its label and goes on as the client sent it: an OpenAI-compatible server may
  // take more formats (vLLM reads BMP and TIFF), and a same-wire body is passed through unchanged, so
  // the target, not tandem, says whether it takes it.
  const sniffed = isBase64Text(data) ? sniffImageType(base64Head(data)) : undefined;
  return { kind: "base64", mediaType: sniffed ?? (match[1] || "image/png"), data };
}
