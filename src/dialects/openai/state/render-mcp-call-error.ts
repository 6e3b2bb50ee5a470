import type { HostedCallFailure } from "../../../core/index.js";

/** `mcp_call.error` as the Responses API types it (McpToolCallError, openai-node 7 and the OpenAPI spec). */
export type McpToolCallError =
  | { type: "mcp_protocol_error"; code: number; message: string }
  | { type: "mcp_tool_execution_error"; content: unknown }
  | { type: "http_error"; code: number; message: string };

/** A failed call's error object: the kind the host told, or (a host that did not say) its text as a tool's error. */
export function renderMcpCallError(failure: HostedCallFailure | undefined, error: string): McpToolCallError {
  if (failure === undefined) return textError(error);
  switch (failure.kind) {
    case "protocol":
      return { type: "mcp_protocol_error", code: failure.code, message: failure.message };
    case "http":
      return { type: "http_error", code: failure.status, message: failure.message };
    case "tool":
      return { type: "mcp_tool_execution_error", content: failure.content };
  }
}

/**
 * A stored `mcp_call` as the API renders it now: its `error` was text before (tandem's own items
 * stored before it rendered the object, and items sent by openai-node 6 clients, whose type is a
 * string). The kind of such an error was not kept: it reads as the tool's error, the text its one
 * content block. Any other item is returned as it is.
 */
export function renderStoredMcpCall<T extends { type?: unknown; error?: unknown }>(item: T): T {
  if (item.type !== "mcp_call" || typeof item.error !== "string") return item;
  return { ...item, error: textError(item.error) };
}

function textError(text: string): McpToolCallError {
  return { type: "mcp_tool_execution_error", content: [{ type: "text", text }] };
}
