/**
 * `mcp_call.error` as it is on the wire: OpenAI's McpToolCallError object (openai-node 7.60 and the
 * OpenAPI spec), which the pinned openai-node 6.49 still types as a string.
 */
export interface WireMcpCallError {
  type: "mcp_protocol_error" | "mcp_tool_execution_error" | "http_error";
  code?: number;
  message?: string;
  content?: unknown;
}

export function mcpCallError(error: unknown): WireMcpCallError {
  if (error === null || typeof error !== "object") throw new Error(`mcp_call.error is not an object: ${JSON.stringify(error)}`);
  return error as WireMcpCallError;
}

/** Its text: a protocol or HTTP error's message, or the text blocks of a tool's error. */
export function mcpCallErrorText(error: unknown): string {
  const wire = mcpCallError(error);
  if (wire.type !== "mcp_tool_execution_error") return String(wire.message);
  const blocks = Array.isArray(wire.content) ? (wire.content as Array<{ text?: unknown }>) : [];
  return blocks.map((block) => (typeof block.text === "string" ? block.text : "")).join("\n");
}
