import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  ErrorCode,
  InitializeRequestSchema,
  isJSONRPCRequest,
  JSONRPCMessageSchema,
  type JSONRPCRequest,
  ListToolsRequestSchema,
  PingRequestSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/sdk/types.js";
import { PUBLISHED_HANDSHAKE_VERSIONS } from "../mcp-protocol/index.js";

/*
 * What the MCP SDK's server answers off the specification, checked before it sees a message: a POST
 * that is not JSON-RPC (the SDK calls it a parse error, -32700, though it parsed: JSON-RPC's
 * -32600), a batch in a protocol version without batches (the SDK runs it), a request whose params
 * do not fit its method (the SDK answers -32603, an internal error, for what JSON-RPC calls -32602),
 * a call of a tool that does not exist (the SDK makes it a tool result with isError; the
 * specification, an error response: "errors in finding the tool ... should be reported as an MCP
 * error response"), and a tools/list cursor tandem never gave (the SDK ignores it).
 */

/** The revision that removed JSON-RPC batches: a POST carries one message from it on. */
const NO_BATCHES_SINCE = "2025-06-18";

/** The requests tandem's server answers, with the SDK's schema of each. */
const REQUEST_SCHEMAS = {
  initialize: InitializeRequestSchema,
  ping: PingRequestSchema,
  "tools/list": ListToolsRequestSchema,
  "tools/call": CallToolRequestSchema,
} as const;

/** The longest tool name echoed back in an error. */
const MAX_NAME_ECHO = 100;

/**
 * Why a POST's body cannot be taken, as the message of JSON-RPC's -32600 (the HTTP answer is a 400),
 * or undefined. `protocolVersion` is the request's `MCP-Protocol-Version` header, when sent.
 */
export function invalidPostBody(body: unknown, protocolVersion: string | undefined): string | undefined {
  if (Array.isArray(body)) {
    if (body.length === 0) return "Invalid Request: an empty batch";
    if (
      protocolVersion !== undefined &&
      protocolVersion >= NO_BATCHES_SINCE &&
      SUPPORTED_PROTOCOL_VERSIONS.includes(protocolVersion)
    ) {
      return `Invalid Request: in protocol version ${protocolVersion} a POST holds one JSON-RPC message, not a batch (batches were removed in ${NO_BATCHES_SINCE})`;
    }
  }
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  const bad = messages.findIndex((message) => !JSONRPCMessageSchema.safeParse(message).success);
  if (bad === -1) return undefined;
  const which = Array.isArray(body) ? `message ${bad} of the batch is` : "the body is";
  return `Invalid Request: ${which} not a JSON-RPC 2.0 request, notification or response (jsonrpc "2.0", a string or number id, a method or a result or error)`;
}

/**
 * Screens the requests the transport hands the server. It answers, in the server's place, each
 * request whose params do not fit its method (-32602, naming what is wrong), each call of a tool not
 * in `tools` (-32602, "Unknown tool: <name>", as the specification's example) and each tools/list
 * with a cursor (-32602: there is one page). It takes a task-augmented request (`params.task`) as a
 * plain one: tandem declares no tasks capability, and 2025-11-25 says a receiver that does not "MUST
 * process requests of that type normally, ignoring any task-augmentation metadata" (the SDK answers
 * -32603), and an initialize asking for a version it does not name as supported as one asking for
 * the latest (withPublishedVersion). Everything else reaches the server as it came. Call after the
 * server has connected to the transport.
 */
export function screenRequests(transport: Transport, tools: ReadonlySet<string>): void {
  const deliver = transport.onmessage;
  if (deliver === undefined) throw new Error("screenRequests: the server is not connected to the transport");
  transport.onmessage = (message, extra) => {
    if (!isJSONRPCRequest(message)) return deliver(message, extra);
    const refusal = invalidParams(message, tools);
    if (refusal === undefined) return deliver(withPublishedVersion(withoutTask(message)), extra);
    transport
      .send({ jsonrpc: "2.0", id: message.id, error: { code: ErrorCode.InvalidParams, message: refusal } })
      .catch((err: unknown) => transport.onerror?.(err instanceof Error ? err : new Error(String(err))));
  };
}

/**
 * An initialize asking for a version tandem does not name as supported, asking for the latest
 * instead: the SDK echoes any version of its own list, 2024-10-07 too (an early draft's, which
 * `supportedVersions` and the -32022 list leave out), and a server that does not support the version
 * asked for "MUST respond with another protocol version it supports ... the latest" (2025-11-25,
 * basic/lifecycle). Any other request, and an initialize asking for a published version, as it came.
 */
function withPublishedVersion(request: JSONRPCRequest): JSONRPCRequest {
  if (request.method !== "initialize") return request;
  const asked = (request.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  if (typeof asked !== "string" || PUBLISHED_HANDSHAKE_VERSIONS.includes(asked)) return request;
  return { ...request, params: { ...request.params, protocolVersion: PUBLISHED_HANDSHAKE_VERSIONS[0] } };
}

/** The request without its task augmentation, if it has one. */
function withoutTask(request: JSONRPCRequest): JSONRPCRequest {
  if (request.params === undefined || !Object.hasOwn(request.params, "task")) return request;
  const { task: _task, ...params } = request.params;
  return { ...request, params };
}

/** Why a request's params do not fit its method (or name no tool of this server), or undefined. */
function invalidParams(request: { method: string; params?: unknown }, tools: ReadonlySet<string>): string | undefined {
  if (!Object.hasOwn(REQUEST_SCHEMAS, request.method)) return undefined;
  const schema = REQUEST_SCHEMAS[request.method as keyof typeof REQUEST_SCHEMAS];
  const parsed = schema.safeParse(request);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join(".") || "(request)"}: ${issue.message}`)
      .join("; ");
    return `Invalid params for ${request.method}: ${issues}`;
  }
  // One page, no nextCursor: any cursor is one tandem never gave (the spec: an invalid cursor is -32602).
  if (request.method === "tools/list" && (request.params as { cursor?: string } | undefined)?.cursor !== undefined) {
    return "Invalid params for tools/list: unknown cursor (tandem lists every tool in one page and gives no cursor)";
  }
  if (request.method !== "tools/call") return undefined;
  const name = (request.params as { name: string }).name;
  if (tools.has(name)) return undefined;
  return `Unknown tool: ${name.slice(0, MAX_NAME_ECHO)} (this server has ${[...tools].join(", ")})`;
}
