/**
 * A tool result as the text a model reads next. MCP results are typed content parts, but every
 * model wire tandem speaks takes a tool's output as text, and an image or audio part in base64 would
 * only spend the context window on bytes the model cannot read there: it is named, not inlined.
 */

/** The parts of an MCP `CallToolResult` tandem reads; the rest of a result is ignored. */
export interface McpToolResult {
  content?: unknown[];
  structuredContent?: unknown;
  isError?: boolean;
  /** The result of a server of protocol version 2024-10-07, which had no content parts. */
  toolResult?: unknown;
}

/** The result as text: its content parts joined with "\n", or its structured content as JSON when it has no content. */
export function toolResultText(result: McpToolResult): string {
  const parts = Array.isArray(result.content) ? result.content : [];
  if (parts.length === 0 && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  if (parts.length === 0 && result.toolResult !== undefined) {
    return typeof result.toolResult === "string" ? result.toolResult : JSON.stringify(result.toolResult);
  }
  return parts.map(contentPartText).join("\n");
}

/** One content part: text as it is; an image or audio part as a marker; a resource as its text or URI. */
export function contentPartText(part: unknown): string {
  if (typeof part !== "object" || part === null) return "";
  const p = part as Record<string, unknown>;
  switch (p.type) {
    case "text":
      return typeof p.text === "string" ? p.text : "";
    case "image":
    case "audio":
      return `[${p.type} ${typeof p.mimeType === "string" ? p.mimeType : "unknown type"}, ${base64Bytes(p.data)} bytes]`;
    case "resource": {
      const resource = (typeof p.resource === "object" && p.resource !== null ? p.resource : {}) as Record<string, unknown>;
      if (typeof resource.text === "string") return resource.text;
      return `[resource ${typeof resource.uri === "string" ? resource.uri : "without a uri"}]`;
    }
    case "resource_link":
      return typeof p.uri === "string" ? p.uri : "";
    default:
      // A part of a later protocol version: its type at least says something was there.
      return `[${typeof p.type === "string" ? p.type : "unknown"} content]`;
  }
}

/** The size of base64 data once decoded, without decoding it. */
function base64Bytes(data: unknown): number {
  return typeof data === "string" ? Buffer.byteLength(data, "base64") : 0;
}

/**
 * The text cut to at most `maxBytes` of UTF-8 (never in the middle of a character), followed by a
 * note saying how many bytes were cut and which setting did it, so the model knows it saw a part.
 */
export function capUtf8(text: string, maxBytes: number): string {
  // A string of n UTF-16 units is at most 3n bytes: most outputs skip the encoding.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Back to the first byte of the character the cut falls in (continuation bytes are 10xxxxxx).
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  const cut = bytes.length - end;
  return `${bytes.subarray(0, end).toString("utf8")}\n[output cut: ${cut} of ${bytes.length} bytes left out (mcp.maxOutputBytes)]`;
}
