import type { Readable, Writable } from "node:stream";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  type InitializeResult,
  isJSONRPCErrorResponse,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
} from "@modelcontextprotocol/sdk/types.js";
import { META_PROTOCOL_VERSION, MODERN_PROTOCOL_VERSION, standardHeaders } from "../harness/mcp-protocol/index.js";
import { answeringEveryRequest } from "../harness/tools/mcp/mcp-unanswered.js";
import { authHeaders, clientKey, describeFetchError, serverUrl } from "./client.js";

/** What `tandem mcp` talks to: the process's own unless a test passes its own. */
export interface McpProxyIo {
  stdin: Readable;
  stdout: Writable;
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** The longest message read from stdin (as the server's default body limit). */
const MAX_MESSAGE_BYTES = 32 * 1024 * 1024;

/** JSON-RPC's code for an error of the server's own (the SDK's ErrorCode.InternalError). */
const INTERNAL_ERROR = -32603;

/**
 * `tandem mcp`: an MCP server on stdin/stdout for the clients that start one as a command (Claude
 * Desktop, Cursor, Codex), which relays every message to the running tandem's `/mcp` and its answers
 * back. The tools are the server's own (one implementation, the same checks: Host, Origin, the
 * client key); this process holds no models, keys or store, so it starts at once and never opens the
 * encrypted store a running server holds. A message tandem cannot be reached for is answered with a
 * JSON-RPC error that says why, so the client shows the reason instead of hanging.
 * Resolves with the exit code when stdin ends.
 */
export async function mcpProxy(
  options: { url?: string; key?: string },
  io: McpProxyIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const base = serverUrl(options.url, io.env);
  const endpoint = `${base}/mcp`;
  const key = clientKey(options.key, "mcp", { env: io.env, stderr: io.stderr });
  const upstream = new StreamableHTTPClientTransport(new URL(endpoint), {
    requestInit: { headers: authHeaders(key) },
    // A call tandem stops (or restarts) under is answered with an error, not left to the client's timeout.
    fetch: answeringEveryRequest(withModernHeaders(fetch), (err) => {
      const why = err === undefined ? "" : `: ${err instanceof Error ? err.message : String(err)}`;
      return `tandem at ${endpoint} closed the connection before answering (it stopped or restarted)${why}; call again once it is back`;
    }),
  });
  const local = new StdioServerTransport(io.stdin, io.stdout, { maxBufferSize: MAX_MESSAGE_BYTES });
  /** The ids of initialize requests on their way: their answer says which protocol version to send on. */
  const initializing = new Set<RequestId>();
  /** The client's requests not answered yet: stdin's end waits for them (`echo ... | tandem mcp`). */
  const pending = new Set<RequestId>();
  let drained: (() => void) | undefined;
  const answered = (id: RequestId) => {
    pending.delete(id);
    if (pending.size === 0) drained?.();
  };

  upstream.onmessage = (message) => {
    if (isJSONRPCResultResponse(message) && initializing.delete(message.id)) {
      const version = (message.result as Partial<InitializeResult>).protocolVersion;
      if (typeof version === "string") upstream.setProtocolVersion(version);
    }
    void local.send(message).then(() => {
      if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) {
        answered(message.id);
      }
    });
  };
  let closing = false;
  // Closing aborts the upstream's open streams: that is not worth a line.
  upstream.onerror = (err) => closing || io.stderr.write(`tandem mcp: ${err.message}\n`);
  local.onerror = (err) => io.stderr.write(`tandem mcp: ${err.message}\n`);
  local.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message)) {
      pending.add(message.id);
      if (message.method === "initialize") initializing.add(message.id);
    }
    upstream.send(message).catch((err: unknown) => {
      const reason = failureText(endpoint, err);
      io.stderr.write(`tandem mcp: ${reason}\n`);
      if (!isJSONRPCRequest(message)) return;
      initializing.delete(message.id);
      void local
        .send({ jsonrpc: "2.0", id: message.id, error: { code: INTERNAL_ERROR, message: reason } })
        .then(() => answered(message.id));
    });
  };

  await upstream.start();
  await local.start();
  await new Promise<void>((resolve) => {
    io.stdin.once("end", resolve);
    io.stdin.once("close", resolve);
  });
  if (pending.size > 0) await new Promise<void>((resolve) => (drained = resolve));
  closing = true;
  await local.close();
  await upstream.close();
  return 0;
}

/**
 * The fetch with 2026-07-28's request headers added to a POST whose message declares that revision
 * in its `_meta` (a stdio client of it sends no headers; /mcp over HTTP requires them), so such a
 * client is served in its revision through the relay. Any other POST goes as it is.
 */
function withModernHeaders(fetch: FetchLike): FetchLike {
  return (url, init) => {
    if (init?.method !== "POST" || typeof init.body !== "string") return fetch(url, init);
    let message: unknown;
    try {
      message = JSON.parse(init.body);
    } catch {
      return fetch(url, init);
    }
    if (message === null || typeof message !== "object" || Array.isArray(message)) return fetch(url, init);
    const { method, params } = message as { method?: unknown; params?: { _meta?: Record<string, unknown> } };
    if (typeof method !== "string" || params?._meta?.[META_PROTOCOL_VERSION] !== MODERN_PROTOCOL_VERSION) return fetch(url, init);
    const headers = new Headers(init.headers);
    for (const [name, value] of Object.entries(standardHeaders(method, params))) headers.set(name, value);
    return fetch(url, { ...init, headers });
  };
}

/** Why a message could not be relayed, in words a user can act on; never the key. */
function failureText(endpoint: string, err: unknown): string {
  if (err instanceof StreamableHTTPError) {
    if (err.code === 401) {
      return `tandem at ${endpoint} refused the client key: set TANDEM_API_KEY to one of its server.apiKeys`;
    }
    if (err.code !== undefined && err.code > 0) return `tandem at ${endpoint} answered HTTP ${err.code}: ${err.message}`;
  }
  return describeFetchError(endpoint, err);
}
