import type { ChatRequest, ContentPart } from "../../core/index.js";
import { withPartsCounted } from "./counted-media.js";

type Json = Record<string, unknown>;

/**
 * The block types of a message's content that the canonical request counts (as their text, image,
 * call or result), or that withCountedMedia puts in (a PDF, an image from an uploaded file), or that
 * Anthropic does not count (earlier turns' thinking, tool changes, read with the tools).
 */
const COUNTED = new Set([
  "text",
  "image",
  "document",
  "search_result",
  "tool_use",
  "tool_result",
  "thinking",
  "redacted_thinking",
  "tool_addition",
  "tool_removal",
]);

/** The same inside a tool_result's content (a tool_reference counts as the line that stands for it). */
const COUNTED_IN_RESULT = new Set(["text", "image", "document", "search_result", "tool_reference"]);

/**
 * A count_tokens request with the content blocks it has no canonical form for (a block type newer
 * than tandem, a server tool's `server_tool_use` and its results, ...) put in for counting as their
 * JSON text: sent to an Anthropic target as they are, they are not free, and their serialised form
 * is the estimate tandem can make of them. As with withCountedMedia, at the end of the last user
 * message: where does not change a count, and nothing of this request is sent.
 */
export function withCountedBlocks(chat: ChatRequest, body: unknown): ChatRequest {
  const parts: ContentPart[] = [...uncountedBlocks(body)].map((block) => ({ type: "text", text: JSON.stringify(block) }));
  return parts.length === 0 ? chat : withPartsCounted(chat, parts);
}

/** The blocks of a Messages body (in its messages and their tool results) of a type not counted otherwise, read defensively: the body was validated. */
function* uncountedBlocks(body: unknown): Generator<Json> {
  const messages = (body as Json | null)?.messages;
  if (!Array.isArray(messages)) return;
  for (const message of messages) {
    const content = (message as Json | null)?.content;
    // A system turn holds text (the body was validated); a string is the text shorthand.
    if ((message as Json | null)?.role === "system" || !Array.isArray(content)) continue;
    for (const block of content as Json[]) {
      if (!isBlock(block)) continue;
      if (!COUNTED.has(block.type as string)) yield block;
      else if (block.type === "tool_result" && Array.isArray(block.content))
        for (const inner of block.content as Json[])
          if (isBlock(inner) && !COUNTED_IN_RESULT.has(inner.type as string)) yield inner;
    }
  }
}

function isBlock(value: unknown): value is Json {
  return typeof value === "object" && value !== null && typeof (value as Json).type === "string";
}
