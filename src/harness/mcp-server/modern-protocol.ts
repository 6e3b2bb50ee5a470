import type { IncomingHttpHeaders } from "node:http";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from "@modelcontextprotocol/sdk/types.js";
import {
  decodeHeaderValue,
  HANDSHAKE_PROTOCOL_VERSIONS,
  HEADER_MISMATCH,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_PROTOCOL_VERSION,
  META_SERVER_INFO,
  MODERN_PROTOCOL_VERSION,
  NAMED_METHODS,
  PUBLISHED_HANDSHAKE_VERSIONS,
  UNSUPPORTED_PROTOCOL_VERSION,
} from "../mcp-protocol/index.js";
import { screenRequests } from "./protocol-checks.js";
import type { TandemMcpServer } from "./tandem-mcp-server.js";

/*
 * MCP's stateless revision, 2026-07-28 (basic/versioning, basic/index, basic/transports/
 * streamable-http, server/discover, server/utilities/caching): no initialize handshake, each request
 * carries its protocol version and client capabilities in `params._meta` and mirrors its method (and
 * tool name) in headers, every result says `resultType`. The installed SDK speaks only the handshake
 * revisions, so a request of this revision is answered here, dual-era as the versioning page allows:
 * checked by the new rules, then run by the same SDK server (the same tools, their schemas and
 * handlers) over an in-process transport, its answer given the new fields.
 */

/** Every version tandem's /mcp serves, newest first: what `server/discover` and the version error list. */
export const SUPPORTED_VERSIONS: readonly string[] = [MODERN_PROTOCOL_VERSION, ...PUBLISHED_HANDSHAKE_VERSIONS];

/** The methods this revision's clients may call here; any other is -32601 with HTTP 404. */
const SERVED_METHODS = ["server/discover", "tools/list", "tools/call"] as const;

/**
 * How long a client may keep the discover result and the tool list (caching's `ttlMs`): they change
 * only when tandem's config does. Scope `public`: they hold nothing of one user's (the same for every key).
 */
const TTL_MS = 60_000;

/** The longest header or body value echoed back in an error. */
const MAX_ECHO = 100;

/** A request's headers, as Node gives them (lower-cased names): the rules read `mcp-protocol-version`, `mcp-method`, `mcp-name`. */
type ModernRequestHeaders = IncomingHttpHeaders;

/** What to answer: an HTTP status and a JSON-RPC message, or no message (202, a notification taken). */
export interface ModernAnswer {
  status: number;
  message?: JSONRPCMessage;
}

/**
 * Whether a POST is of the stateless revision (or of a version neither era knows), and so is
 * answered by answerModernRequest: its `_meta` or its `MCP-Protocol-Version` header names a version
 * other than the SDK's handshake ones. A request naming none, or a handshake version, is the SDK's.
 */
export function isModernRequest(body: unknown, protocolVersionHeader: string | undefined): boolean {
  const legacy = (version: string) => HANDSHAKE_PROTOCOL_VERSIONS.includes(version);
  if (protocolVersionHeader !== undefined && !legacy(protocolVersionHeader)) return true;
  const declared = metaOf(body)?.[META_PROTOCOL_VERSION];
  return declared !== undefined && !(typeof declared === "string" && legacy(declared));
}

/**
 * Answers one POST of the 2026-07-28 revision: a single request is checked (its version, its
 * required `_meta`, its headers against its body, its method) and served by `mcp`'s server, which
 * must not be connected yet; a notification is taken (202). `mcp.server` is left connected: the
 * caller closes it when the HTTP exchange ends, which cancels a tool call still running.
 */
export async function answerModernRequest(
  body: unknown,
  headers: ModernRequestHeaders,
  mcp: TandemMcpServer,
): Promise<ModernAnswer> {
  if (Array.isArray(body)) {
    return refusal(400, undefined, ErrorCode.InvalidRequest, "Invalid Request: a POST holds one JSON-RPC message, not a batch");
  }
  const message = body as JSONRPCMessage;
  if (!isJSONRPCRequest(message)) {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      return refusal(
        400,
        undefined,
        ErrorCode.InvalidRequest,
        "Invalid Request: a client sends requests and notifications, not responses",
      );
    }
    // A notification: none is defined over HTTP in this revision, and none needs anything of tandem.
    return { status: 202 };
  }
  const checked = checkRequest(message, headers);
  if (checked !== undefined) return checked;
  if (message.method === "server/discover") return { status: 200, message: complete(message, discoverResult(mcp), mcp, true) };
  const answer = await serve(message, mcp);
  if (!isJSONRPCResultResponse(answer)) return { status: 200, message: answer };
  if (message.method !== "tools/list") return { status: 200, message: complete(message, answer.result, mcp, false) };
  return { status: 200, message: complete(message, withoutTaskSupport(answer.result), mcp, true) };
}

/**
 * A tools/list result without each tool's `execution` (the SDK writes `{taskSupport: "forbidden"}`):
 * 2026-07-28 moved tasks out of the core protocol into an extension, and its Tool has no such field.
 */
function withoutTaskSupport(result: Record<string, unknown>): Record<string, unknown> {
  if (!Array.isArray(result.tools)) return result;
  const tools = result.tools.map((tool: unknown) => {
    if (!isObject(tool) || !Object.hasOwn(tool, "execution")) return tool;
    const { execution: _execution, ...rest } = tool;
    return rest;
  });
  return { ...result, tools };
}

/** Why a request cannot be served under 2026-07-28 (the spec's error and status), or undefined. */
function checkRequest(request: JSONRPCRequest, headers: ModernRequestHeaders): ModernAnswer | undefined {
  const meta = metaOf(request);
  const declared = meta?.[META_PROTOCOL_VERSION];
  const header = single(headers["mcp-protocol-version"]);
  if (typeof declared === "string" && header !== undefined && header !== declared) {
    return mismatch(request, `MCP-Protocol-Version header value '${echo(header)}' does not match body value '${echo(declared)}'`);
  }
  const requested = typeof declared === "string" ? declared : header;
  if (requested !== undefined && requested !== MODERN_PROTOCOL_VERSION && !HANDSHAKE_PROTOCOL_VERSIONS.includes(requested)) {
    return {
      status: 400,
      message: {
        jsonrpc: "2.0",
        id: request.id,
        error: {
          code: UNSUPPORTED_PROTOCOL_VERSION,
          message: `Unsupported protocol version: ${echo(requested)} (supported: ${SUPPORTED_VERSIONS.join(", ")})`,
          data: { supported: [...SUPPORTED_VERSIONS], requested },
        },
      },
    };
  }
  // Declared in `_meta` (or by the header alone) as a handshake version: those have no per-request `_meta`.
  if (typeof declared !== "string" || declared !== MODERN_PROTOCOL_VERSION) {
    const why =
      declared === undefined
        ? `params._meta["${META_PROTOCOL_VERSION}"] is required`
        : typeof declared !== "string"
          ? `params._meta["${META_PROTOCOL_VERSION}"] must be a string`
          : `protocol version ${declared} is spoken after an initialize handshake, without per-request _meta; use ${MODERN_PROTOCOL_VERSION} here`;
    return refusal(400, request.id, ErrorCode.InvalidParams, `Invalid params: ${why}`);
  }
  const capabilities = meta?.[META_CLIENT_CAPABILITIES];
  if (!isObject(capabilities)) {
    return refusal(
      400,
      request.id,
      ErrorCode.InvalidParams,
      `Invalid params: params._meta["${META_CLIENT_CAPABILITIES}"] is required (an object)`,
    );
  }
  const info = meta?.[META_CLIENT_INFO];
  if (info !== undefined && !(isObject(info) && typeof info.name === "string" && typeof info.version === "string")) {
    return refusal(
      400,
      request.id,
      ErrorCode.InvalidParams,
      `Invalid params: params._meta["${META_CLIENT_INFO}"] must be an object with a name and a version`,
    );
  }
  if (header === undefined) return mismatch(request, "the MCP-Protocol-Version header is required");
  const method = single(headers["mcp-method"]);
  if (method === undefined) return mismatch(request, "the Mcp-Method header is required");
  if (method !== request.method) {
    return mismatch(request, `Mcp-Method header value '${echo(method)}' does not match body value '${echo(request.method)}'`);
  }
  if (NAMED_METHODS.has(request.method)) {
    const params = request.params ?? {};
    const named = typeof params.name === "string" ? params.name : typeof params.uri === "string" ? params.uri : undefined;
    const raw = single(headers["mcp-name"]);
    if (raw === undefined) return mismatch(request, "the Mcp-Name header is required");
    const name = decodeHeaderValue(raw);
    if (name === undefined)
      return mismatch(request, `Mcp-Name header value '${echo(raw)}' is not valid Base64 between =?base64? and ?=`);
    if (name !== named) {
      return mismatch(request, `Mcp-Name header value '${echo(name)}' does not match body value '${echo(named ?? "(none)")}'`);
    }
  }
  if (!(SERVED_METHODS as readonly string[]).includes(request.method)) {
    const why =
      request.method === "initialize"
        ? `initialize is not a method of protocol version ${MODERN_PROTOCOL_VERSION}, which has no handshake (this server supports ${SUPPORTED_VERSIONS.join(", ")}; send initialize without 2026-07-28 for a handshake version)`
        : `${echo(request.method)} is not served here under ${MODERN_PROTOCOL_VERSION} (methods: ${SERVED_METHODS.join(", ")})`;
    return refusal(404, request.id, ErrorCode.MethodNotFound, `Method not found: ${why}`);
  }
  return undefined;
}

/** `server/discover`'s answer (before complete() adds what every result carries). */
function discoverResult(mcp: TandemMcpServer): Record<string, unknown> {
  return { supportedVersions: [...SUPPORTED_VERSIONS], capabilities: mcp.capabilities, instructions: mcp.instructions };
}

/**
 * Runs one request through the SDK server (tools/list, tools/call: the tools and their checks are
 * the handshake path's own) and waits for its answer. The request's `_meta` goes with it.
 */
async function serve(request: JSONRPCRequest, mcp: TandemMcpServer): Promise<JSONRPCMessage> {
  const [near, far] = InMemoryTransport.createLinkedPair();
  const answer = new Promise<JSONRPCMessage>((resolve) => {
    near.onmessage = (message) => {
      // The server sends only the answer: tandem's tools send no notification, no request of their own.
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) resolve(message);
    };
    near.onclose = () =>
      resolve({ jsonrpc: "2.0", id: request.id, error: { code: ErrorCode.ConnectionClosed, message: "Connection closed" } });
  });
  await mcp.server.connect(far);
  screenRequests(far, mcp.tools);
  await near.start();
  await near.send(request);
  return answer;
}

/** A result as this revision has it: `resultType`, the server named in `_meta`, caching hints on a cacheable one. */
function complete(
  request: JSONRPCRequest,
  result: Record<string, unknown>,
  mcp: TandemMcpServer,
  cacheable: boolean,
): JSONRPCMessage {
  const meta = isObject(result._meta) ? result._meta : {};
  return {
    jsonrpc: "2.0",
    id: request.id,
    result: {
      ...result,
      resultType: "complete",
      ...(cacheable && { ttlMs: TTL_MS, cacheScope: "public" }),
      _meta: { ...meta, [META_SERVER_INFO]: mcp.serverInfo },
    },
  };
}

function mismatch(request: JSONRPCRequest, why: string): ModernAnswer {
  return refusal(400, request.id, HEADER_MISMATCH, `Header mismatch: ${why}`);
}

function refusal(status: number, id: JSONRPCRequest["id"] | undefined, code: number, message: string): ModernAnswer {
  // An error response without an id is allowed by this revision's schema (`id?`); the SDK's types want one.
  return { status, message: { jsonrpc: "2.0", ...(id !== undefined && { id }), error: { code, message } } as JSONRPCMessage };
}

/** A request's `params._meta`, when the body is one request or notification with one. */
function metaOf(body: unknown): Record<string, unknown> | undefined {
  if (!isObject(body) || !isObject(body.params)) return undefined;
  const meta = body.params._meta;
  return isObject(meta) ? meta : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A header's value; a header sent twice is taken as missing (its values cannot both be the body's). */
function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function echo(value: string): string {
  return value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}…` : value;
}
