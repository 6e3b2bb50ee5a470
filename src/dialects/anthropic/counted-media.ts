import type { ChatRequest, ContentPart, DocumentText } from "../../core/index.js";

type Json = Record<string, unknown>;

/**
 * A count_tokens request with its PDF documents and its images from uploaded files put in for
 * counting. Neither has a canonical form (they reach an Anthropic target only, as the client's own
 * blocks: see convertFromAnthropicRequest), so the canonical request lacks them, yet they are sent
 * and Anthropic counts them: a PDF's text and an image of each page, an image as an image. Each PDF
 * is given here as a file part with its text (read as the Files API reads a PDF's), each image as an
 * image part, at the end of the last user message (where in the conversation does not change a
 * count; nothing of this request is sent). A PDF by URL or by file id, whose bytes tandem does not
 * have, is a file part without bytes: counted as one page; an image by file id is one whose size is
 * unknown, as an image by URL is.
 */
export async function withCountedMedia(
  chat: ChatRequest,
  body: unknown,
  documentText: DocumentText | undefined,
  signal: AbortSignal,
): Promise<ChatRequest> {
  const sources = [...mediaSources(body)];
  if (sources.length === 0) return chat;
  const parts: ContentPart[] = [];
  for (const source of sources) {
    if (source === FILE_IMAGE) {
      // Never fetched nor sent: a URL no image can be read from counts as an image of unknown size.
      parts.push({ type: "image", source: { kind: "url", url: "" } });
      continue;
    }
    const { data, title } = source;
    const text =
      data === "" || documentText === undefined ? undefined : await documentText(Buffer.from(data, "base64"), PDF, signal);
    parts.push({
      type: "file",
      mediaType: PDF,
      data,
      ...(title !== undefined && { filename: title }),
      ...(text !== undefined && { text }),
    });
  }
  return withPartsCounted(chat, parts);
}

/**
 * A count_tokens request with `parts` put in at the end of its last user message (a new one when it
 * has none): where does not change a count, and nothing of this request is sent.
 */
export function withPartsCounted(chat: ChatRequest, parts: ContentPart[]): ChatRequest {
  const messages = [...chat.messages];
  let last = messages.length - 1;
  while (last >= 0 && messages[last]?.role !== "user") last--;
  const user = messages[last];
  if (user?.role === "user") messages[last] = { ...user, content: [...user.content, ...parts] };
  else messages.push({ role: "user", content: parts });
  return { ...chat, messages };
}

const PDF = "application/pdf";

/** An image block whose source is an uploaded file (`{type: "file", file_id}`). */
const FILE_IMAGE = Symbol("image from an uploaded file");

type MediaSource = { data: string; title: string | undefined } | typeof FILE_IMAGE;

/** The PDF documents and file images of a Messages body (in its messages and their tool results), read defensively: the body was validated. */
function* mediaSources(body: unknown): Generator<MediaSource> {
  const messages = (body as Json | null)?.messages;
  if (!Array.isArray(messages)) return;
  for (const message of messages) {
    const content = (message as Json | null)?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content as Json[]) {
      yield* mediaOf(block);
      if (block?.type === "tool_result" && Array.isArray(block.content))
        for (const inner of block.content as Json[]) yield* mediaOf(inner);
    }
  }
}

function* mediaOf(block: Json | null): Generator<MediaSource> {
  if (block?.type === "image" && (block.source as Json | null)?.type === "file") yield FILE_IMAGE;
  if (block?.type !== "document") return;
  const source = block.source as Json | null;
  const title = typeof block.title === "string" ? block.title : undefined;
  if (source?.type === "base64" && source.media_type === PDF && typeof source.data === "string")
    yield { data: source.data, title };
  else if (source?.type === "url" || source?.type === "file") yield { data: "", title };
}
