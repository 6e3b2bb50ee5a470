import type { AttributeFilter, Attributes } from "./attribute-filter.js";
import type { Sensitivity } from "./sensitivity.js";

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

/**
 * A tool's input schema as a function's parameters may be: an object schema. An MCP tool is always
 * called with an object of arguments (and OpenAI, Anthropic and most local servers refuse a function
 * whose parameters are not one), but servers list tools without an `inputSchema`, with `{}`, or with
 * the object's `properties` and no `type`: those become the object schema they mean; one of another
 * type, an object schema that takes anything.
 */
export function objectSchema(schema: unknown): Record<string, unknown> {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return { type: "object", properties: {} };
  const record = schema as Record<string, unknown>;
  if (record.type === "object") return record;
  if (record.type === undefined) return { ...record, type: "object", ...(record.properties === undefined && { properties: {} }) };
  return { type: "object", properties: {} };
}

/**
 * Why an MCP tool call failed, in the kinds the Responses API's `mcp_call.error` tells apart
 * (McpToolCallError):
 * - `protocol`: a JSON-RPC error. The server's own answer (its code and message), or the MCP
 *   client's: the SDK's -32001 RequestTimeout when no answer came in time, -32000 ConnectionClosed
 *   when the link to the server was lost or could not be made (a refused connection, a stdio server
 *   that exited), or MCP_CALL_CODES.notSent (-32010) when tandem did not send the call at all (a limit, privacy, the
 *   audit, a server it may not use); -32602 Invalid params for arguments that are not a JSON object
 *   or a tool the server does not offer, as an MCP server answers those.
 * - `http`: the server's HTTP endpoint answered with an error status.
 * - `tool`: the tool ran and its result said `isError: true`; `content` is the result's content blocks.
 */
export type HostedCallFailure =
  | { kind: "protocol"; code: number; message: string }
  | { kind: "http"; status: number; message: string }
  | { kind: "tool"; content: unknown[] };

/** JSON-RPC codes of the MCP client's own failures (the MCP SDK's ErrorCode) and of tandem's refusals. */
export const MCP_CALL_CODES = {
  /** JSON-RPC Invalid params: arguments that are not an object, or a tool the server does not offer. */
  invalidParams: -32602,
  /** The link to the server was lost or could not be made (the MCP SDK's ConnectionClosed). */
  connectionClosed: -32000,
  /** No answer within the timeout (the MCP SDK's RequestTimeout). */
  requestTimeout: -32001,
  /** tandem did not send the call (a limit, privacy, the audit, a server it may not use): in JSON-RPC's implementation-defined range. */
  notSent: -32010,
} as const;

/** What a tool call gave: its output as text (MCP content joined), or why it failed (`error`, the text the model reads). */
export type HostedToolOutcome =
  | { output: string; error?: undefined; failure?: undefined }
  | { output?: undefined; error: string; failure?: HostedCallFailure };

/** A failed outcome of a call tandem did not send (`notSent`), or of one that did not get to run (`code`). */
export function callRefused(error: string, code: number = MCP_CALL_CODES.notSent): HostedToolOutcome {
  return { error, failure: { kind: "protocol", code, message: error } };
}

/**
 * Talks to MCP servers for the loop. Errors are never thrown for a server's own failure (down,
 * refused, a tool error): they come back as `error` text the model and the client can read.
 * Thrown only for an aborted signal.
 */
export interface ToolHost {
  /** The server's tools, or why they could not be listed. */
  listTools(server: McpServerRef, signal: AbortSignal): Promise<{ tools: HostedToolInfo[] } | { error: string }>;
  /** Runs one tool with its JSON arguments. */
  callTool(
    server: McpServerRef,
    name: string,
    args: Record<string, unknown>,
    signal: AbortSignal,
    call?: HostedCallContext,
  ): Promise<HostedToolOutcome>;
  /** Whether a server of this label is configured (so a request may name it without a URL). */
  configured(label: string): boolean;
}

/** What the loop knows of the conversation a call is made in, for hosts whose tools keep what they are given (memory). */
export interface HostedCallContext {
  /** The highest sensitivity the conversation is known to have (classified turns, the client's declaration); undefined: not known. */
  sensitivity?: Sensitivity;
  /**
   * The model the client's request named (a route, most often): what a host sends on from the call
   * (a saved memory's text to the embedding model) follows that route's privacy, as the request does
   * (RequestContext.privacyRoute), and its egress-audit row names it.
   */
  route?: string;
  /** The client's request's least level (ChatRequest.sensitivityFloor, a stored conversation's): RequestContext.privacyFloor. */
  floor?: Sensitivity;
}

/**
 * What the loop did, as items of the answer (StreamEvent `hosted-tool`): each is sent when it starts
 * (`status: "in_progress"`), as it changes (a call's arguments as the model writes them, then
 * `calling`) and when it ends, with the same `id`. Dialects with a place for them
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
      /** JSON text, as the model wrote it (so far, while `in_progress`). */
      arguments: string;
      /** `in_progress` while the model writes the arguments (sent again as they grow), `calling` while it runs. */
      status: "in_progress" | "calling" | "completed" | "failed";
      output?: string;
      /** What the model reads of a failure. */
      error?: string;
      /** Which kind of failure it was (rendered as `mcp_call.error`); absent from a host that does not say. */
      failure?: HostedCallFailure;
      /** The approval request this call answers, when it needed one. */
      approvalRequestId?: string;
      /**
       * Ended without being sent to its server (a limit, privacy, the audit, an unknown tool,
       * arguments that are not an object): not named in `x-tandem-tools`, which lists the calls
       * that ran. Not rendered.
       */
      notRun?: true;
    }
  | {
      /**
       * A search of tandem's vector stores the model asked for (the Responses API's `file_search`
       * tool): `in_progress` as the model asks, `searching` with its queries, then `completed` with
       * what was found (or `failed`).
       */
      kind: "file-search";
      id: string;
      status: "in_progress" | "searching" | "completed" | "failed";
      queries: string[];
      results?: FileSearchResult[];
      error?: string;
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

/** One passage a `file_search` call found (the `file_search_call` item's `results`). */
export interface FileSearchResult {
  fileId: string;
  filename: string;
  /** 0..1. */
  score: number;
  text: string;
  attributes?: Attributes;
}

/** A request's `file_search` tool: which of tandem's vector stores the model may search, and how. */
export interface FileSearchTool {
  vectorStoreIds: string[];
  /** Results per call, 1..50. */
  maxResults: number;
  filter?: AttributeFilter;
  /** Results scoring below this (0..1) are left out. */
  scoreThreshold: number;
}

/**
 * The function the model is offered for `file_search` (as OpenAI's models are given theirs): it
 * calls it with `{queries: string[]}`.
 */
export const FILE_SEARCH_FUNCTION = "file_search";

/**
 * The label of tandem's own memory tools in the tool loop (a route with `memory: on`): offered to
 * the model as `mcp__tandem-memory__remember` and `..._forget`, named `mcp:tandem-memory/remember`
 * in x-tandem-tools. Reserved: no MCP server may be configured under it, nor a request's `mcp` tool
 * be labelled so.
 */
export const MEMORY_TOOLS_LABEL = "tandem-memory";

/** Which of a server's tools a filter picks: by name, or by MCP's `readOnlyHint` (OpenAI's McpToolFilter). */
export interface HostedToolFilter {
  names?: string[];
  readOnly?: boolean;
}

/** One MCP server a request offers the model, with what the client allowed of it. */
export interface HostedServer {
  ref: McpServerRef;
  /** Only these tools are offered. Default: all the server lists. */
  allowed?: HostedToolFilter;
  /**
   * Which calls wait for the client's approval (OpenAI's `require_approval`): every call, none, or
   * by filters: a tool `always` picks waits, else one `never` picks runs, else it waits (a tool
   * neither picks gets the default). Default (as OpenAI's): every call.
   */
  approval: "always" | "never" | { always?: HostedToolFilter; never?: HostedToolFilter };
  /** The client's description of the server (`server_description`), shown to the model with its tools. */
  description?: string;
}

/** A call an earlier answer asked the client about, and the client's decision (`mcp_approval_response`). */
export interface HostedApproval {
  /** The `mcp_approval_request` item's id. */
  requestId: string;
  server: string;
  name: string;
  arguments: string;
  approve: boolean;
  reason?: string;
}

/** The hosted tools of one request (see HostedToolRunner). */
export interface HostedToolsRequest {
  servers: HostedServer[];
  /** Decisions the new input carries, for calls waiting in the history: run (or declined) before the model's first turn. */
  approvals: HostedApproval[];
  /** The `file_search` tool, when the request has one: the loop searches tandem's vector stores for the model. */
  fileSearch?: FileSearchTool;
  /** Tools already listed in this conversation (its `mcp_list_tools` items), by server label: not listed again. */
  listed: Map<string, HostedToolInfo[]>;
  /** At most this many hosted calls in the answer (the Responses API's `max_tool_calls`). Default 20. */
  maxCalls?: number;
  /**
   * How sensitive the conversation is known to be before this turn (its stored items, the client's
   * declaration): calls to servers not on this machine are held to it before any turn is classified.
   */
  sensitivity?: Sensitivity;
}

/**
 * The name a server's tool is offered to the model under: `mcp__<server>__<tool>`, as Claude Code
 * names MCP tools, so tools of two servers (or a client's own) never collide. A name with what
 * function names may not hold (OpenAI's `^[a-zA-Z0-9_-]{1,64}$`) has it replaced, and a long one is
 * cut, and one whose server label holds `__`; each then ends in a digest of the server and tool names as given, so that `get.page` and
 * `get_page` (or two long names alike in their first 55 characters) stay two tools, each call going
 * to the one the model chose. The same for a stored `mcp_call` made into a tool call of the history.
 */
export function hostedToolName(server: string, tool: string): string {
  const raw = `mcp__${server}__${tool}`;
  const name = raw.replace(/[^a-zA-Z0-9_-]/g, "_");
  // A label with `__` in it makes the name ambiguous (server `a`, tool `b__c` against server `a__b`, tool `c`): digested too.
  if (name === raw && name.length <= 64 && !server.includes("__")) return name;
  const whole = `${server}\u0000${tool}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < whole.length; i++) hash = Math.imul(hash ^ whole.charCodeAt(i), 0x01000193) >>> 0;
  return `${name.slice(0, 55)}_${hash.toString(16).padStart(8, "0")}`;
}
