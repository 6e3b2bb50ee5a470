import type { ContentPart, Message, ToolCall } from "./messages.js";
import type { ChatRequest } from "./request.js";

/**
 * How much text a request's messages hold, by kind, from one walk. Privacy asks how much there is to
 * scan, context fitting whether a conversation clearly fits; each adds up the kinds it needs.
 */
export interface RequestTextSize {
  /** Characters of system prompts, text parts (of every role) and tool-call arguments. */
  text: number;
  /** Characters of tool-call names. */
  toolCallNames: number;
  /** Image parts. */
  images: number;
  /** Characters of image URLs other than data URLs (sent as text, and a signed URL carries a token). */
  imageUrls: number;
}

/**
 * Measures a request's message texts (and a fill-in-the-middle suffix). It runs on every request
 * (twice), so it is a plain loop that joins no strings and makes no generator or closure, one small
 * object per call; indexed loops, as `for...of` here cost a small request about half again as much.
 */
export function measureRequestText(request: ChatRequest): RequestTextSize {
  let text = 0;
  let toolCallNames = 0;
  let images = 0;
  let imageUrls = 0;
  const messages = request.messages;
  for (let m = 0; m < messages.length; m++) {
    const message = messages[m] as Message;
    if (message.role === "system") {
      text += message.content.length;
      continue;
    }
    const content = message.content;
    for (let p = 0; p < content.length; p++) {
      const part = content[p] as ContentPart;
      if (part.type === "text") {
        text += part.text.length;
        continue;
      }
      if (part.type === "file") {
        // Its text where it has one (what a text-only target reads), else counted as an image is.
        if (part.text !== undefined) text += part.text.length;
        else images++;
        continue;
      }
      images++;
      const source = part.source;
      if (source.kind === "url" && !source.url.startsWith("data:")) imageUrls += source.url.length;
    }
    const calls = message.role === "assistant" ? message.toolCalls : undefined;
    if (calls === undefined) continue;
    for (let c = 0; c < calls.length; c++) {
      const call = calls[c] as ToolCall;
      text += call.arguments.length;
      toolCallNames += call.name.length;
    }
  }
  // A fill-in-the-middle suffix is sent beside the prompt (its user message, counted above).
  text += request.completion?.suffix?.length ?? 0;
  return { text, toolCallNames, images, imageUrls };
}
