/**
 * Tools tandem runs for the model (the harness's tool loop), rather than the client: today the tools
 * of MCP servers, named by a Responses request's `{type: "mcp"}` tools or configured under `mcp.servers`.
 * The contract between the loop (harness/tools/tool-loop.ts), the host that talks to MCP servers
 * (harness/tools/mcp/), and the dialects that render what the loop did.
 */

/** An MCP server a request names: by its URL (a remote one), or by the label of one in the config. */
export interface McpServerRef {
  /** The request's `server_label`: how the model and the client tell its tools apart. */
  label: string;
  /** Streamable HTTP (or legacy SSE) endpoint. Unset: the server configured under this label. */
  url?: string;
  /** Sent with every request to `url` (e.g. Authorization). Never logged. */
  headers?: Record<string, string>;
}

/** One tool an MCP server lists, as MCP's `tools/list` gives it. */
export interface HostedToolInfo {
  name: string;
  description?: string;
  /** JSON Schema of the arguments (MCP's `inputSchema`). */
  inputSchema: Record<string, unknown>;
  /** MCP's tool annotations (`readOnlyHint`, ...), when the server sends them. */
  annotations?: Record<string, unknown>;
}

/** What a tool call gave: its output as text (MCP content joined), or why it failed. */
export type HostedToolOutcome = { output: string; error?: undefined } | { output?: undefined; error: string };

/**
 * Talks to MCP servers for the loop. Errors are never thrown for a server's own failure (down,
 * refused, a tool error): they come back as `error` text the model and the client can read.
 * Thrown only for an aborted signal.
 */
export interface ToolHost {
  /** The server's tools, or why they could not be listed. */
  listTools(server: McpServerRef, signal: AbortSignal): Promise<{ tools: HostedToolInfo[] } | { error: string }>;
  /** Runs one tool with its JSON arguments. */
  callTool(server: McpServerRef, name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<HostedToolOutcome>;
  /** Whether a server of this label is configured (so a request may name it without a URL). */
  configured(label: string): boolean;
}

/**
 * What the loop did, as items of the answer (StreamEvent `hosted-tool`): each is sent when it starts
 * (`status: "in_progress"`) and again when it ends, with the same `id`. Dialects with a place for them
 * (the Responses API's `mcp_list_tools`, `mcp_call`, `mcp_approval_request` items) render them;
 * others ignore them, as the model's own text after the calls is the answer.
 */
export type HostedToolItem =
  | {
      kind: "list-tools";
      id: string;
      server: string;
      status: "in_progress" | "completed" | "failed";
      tools: HostedToolInfo[];
      error?: string;
    }
  | {
      kind: "call";
      id: string;
      server: string;
      name: string;
      /** JSON text, as the model wrote it. */
      arguments: string;
      status: "in_progress" | "completed" | "failed";
      output?: string;
      error?: string;
      /** The approval request this call answers, when it needed one. */
      approvalRequestId?: string;
    }
  | {
      /** The call needs the client's approval: the answer ends here; a later request approves or denies it. */
      kind: "approval-request";
      id: string;
      server: string;
      name: string;
      arguments: string;
      status: "completed";
    };
