import type { ChatRequest, DocumentText, FilePart } from "../../core/index.js";

type Json = Record<string, unknown>;

/**
 * A count_tokens request with its PDF documents put in for counting. A PDF `document` block has no
 * canonical form (it reaches an Anthropic target only, as the client's own block: see
 * convertFromAnthropicRequest), so the canonical request lacks it, yet it is sent and Anthropic
 * counts it: its text and an image of each page. Each PDF is given here as a file part with its
 * text (read as the Files API reads a PDF's), at the end of the last user message (where in the
 * conversation does not change a count; nothing of this request is sent). A PDF by URL or by file
 * id, whose bytes tandem does not have, is a file part without bytes: counted as one page.
 */
export async function withCountedDocuments(
  chat: ChatRequest,
  body: unknown,
  documentText: DocumentText | undefined,
  signal: AbortSignal,
): Promise<ChatRequest> {
  const sources = [...pdfSources(body)];
  if (sources.length === 0) return chat;
  const parts: FilePart[] = [];
  for (const { data, title } of sources) {
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
  const messages = [...chat.messages];
  let last = messages.length - 1;
  while (last >= 0 && messages[last]?.role !== "user") last--;
  const user = messages[last];
  if (user?.role === "user") messages[last] = { ...user, content: [...user.content, ...parts] };
  else messages.push({ role: "user", content: parts });
  return { ...chat, messages };
}

const PDF = "application/pdf";

/** The PDF documents of a Messages body (in its messages and their tool results), read defensively: the body was validated. */
function* pdfSources(body: unknown): Generator<{ data: string; title: string | undefined }> {
  const messages = (body as Json | null)?.messages;
  if (!Array.isArray(messages)) return;
  for (const message of messages) {
    const content = (message as Json | null)?.content;
    if (!Array.isArray(content)) continue;
    for (const block of content as Json[]) {
      yield* pdfOf(block);
      if (block?.type === "tool_result" && Array.isArray(block.content))
        for (const inner of block.content as Json[]) yield* pdfOf(inner);
    }
  }
}

function* pdfOf(block: Json | null): Generator<{ data: string; title: string | undefined }> {
  if (block?.type !== "document") return;
  const source = block.source as Json | null;
  const title = typeof block.title === "string" ? block.title : undefined;
  if (source?.type === "base64" && source.media_type === PDF && typeof source.data === "string")
    yield { data: source.data, title };
  else if (source?.type === "url" || source?.type === "file") yield { data: "", title };
}
